#include "scheduler.h"
#include "socket.h"
#include "http_server.h"
#include <iostream>

// Handle single HTTP request
Task handle_http_client(AsyncSocket socket) {
    HttpServer server(socket);
    char buf[8192];
    
    // 1. Read Header
    ssize_t n = co_await socket.read(buf, sizeof(buf));
    if (n <= 0) co_return;

    HttpRequest req;
    // Zero-Copy Parser
    int prev_len = HttpParser::parse_request(buf, n, req);

    if (prev_len > 0) {
        // Route: POST /upload
        if (req.method == "POST" && req.path == "/upload") {
            // Get Content-Length
            std::string_view len_str = req.get_header("Content-Length");
            size_t content_len = std::stoul(std::string(len_str));

            // Calculate remaining body data already in buffer
            std::string_view initial_body(buf + prev_len, n - prev_len);

            // 2. Stream receive to disk (Memory efficient)
            std::cout << "Receiving file, size: " << content_len << "\n";
            co_await server.receive_to_file("uploaded_file.bin", content_len, initial_body);

            // 3. Send Response
            co_await server.send_response(200, "text/plain", "Upload Success!");
        } else {
            co_await server.send_response(200, "text/html", "<h1>Hello tiny_coro!</h1>");
        }
    }
}

// Listening Coroutine
Task start_server(Scheduler& sched, int port) {
    TcpListener listener(sched.reactor());
    if (listener.bind("0.0.0.0", port) < 0) {
        std::cerr << "Bind failed\n";
        co_return;
    }
    std::cout << "Server running on [http://127.0.0.1](http://127.0.0.1):" << port << "\n";

    while (true) {
        // Async Accept
        AsyncSocket client = co_await listener.accept();
        // Spawn new coroutine; transfer ownership
        sched.spawn(handle_http_client(std::move(client)));
    }
}

int main() {
    Scheduler sched(4); // 4 Worker Threads
    sched.spawn(start_server(sched, 8080));

    // Keep main thread alive
    while(true) std::this_thread::sleep_for(std::chrono::seconds(1));
    return 0;
}
