#include "scheduler.h"
#include "channel.h"
#include <iostream>

Task producer(Channel<int>& chan) {
    for (int i = 0; i < 5; ++i) {
        std::cout << "Producing " << i << "\n";
        co_await chan.send(i); // Suspends if queue is full
    }
    chan.close();
}

Task consumer(Channel<int>& chan) {
    while (true) {
        auto val = co_await chan.recv(); // Suspends if empty
        if (!val) break; // Channel closed
        std::cout << "Consumed " << *val << "\n";
    }
}

int main() {
    Scheduler sched;
    Channel<int> chan(sched, 2); // Buffer size of 2

    sched.spawn(producer(chan));
    sched.spawn(consumer(chan));

    std::this_thread::sleep_for(std::chrono::seconds(1));
    return 0;
}
