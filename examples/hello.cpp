#include "scheduler.h"
#include <iostream>

Task hello(Scheduler& sched) {
    std::cout << "[Step 1] Hello from coroutine!\n";
    // Simulate an async operation without blocking the thread
    co_await sleep_for(sched, 1000); 
    std::cout << "[Step 2] World after 1 second!\n";
}

int main() {
    Scheduler sched; // Start runtime (uses hardware concurrency by default)
    sched.spawn(hello(sched));
    
    // Block main thread just to keep the demo alive
    std::this_thread::sleep_for(std::chrono::seconds(2));
    return 0;
}
