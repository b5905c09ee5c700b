#include "runtime/code_address.h"

#include <backtrace.h>
#include <cxxabi.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tiny_coro::detail {
namespace {

struct Described {
  std::string function;
  std::string file;
  int line = 0;
};

// g++ names a coroutine's body by its linkage name (with a ".actor" clone suffix, which the
// demangler renders as "[clone .actor]"): the dump shortens it (task_dump.cpp).
std::string readable(const char* name) {
  if (name == nullptr) return "?";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled != nullptr ? std::string(demangled.get()) : std::string(name);
}

void ignore_error(void*, const char*, int) {}

// Called for each frame at the address, the innermost inlined one first: the last one is
// the function the address lies in — the coroutine, where the co_await is written.
int take_outermost(void* data, std::uintptr_t, const char* file, int line, const char* function) {
  auto& out = *static_cast<Described*>(data);
  if (file != nullptr) {
    out.file = file;
    out.line = line;
    out.function = readable(function);
  }
  return 0;
}

void take_symbol(void* data, std::uintptr_t, const char* symbol, std::uintptr_t, std::uintptr_t) {
  auto& out = *static_cast<Described*>(data);
  if (symbol != nullptr) out.function = readable(symbol);
}

class CodeAddresses {
 public:
  AwaitSite describe(const void* code_address) {
    const std::lock_guard lock(mutex_);
    auto [at, added] = known_.try_emplace(code_address);
    Described& described = at->second;
    if (added) {
      if (state_ == nullptr) {
        // Not threaded: every use of this state is under mutex_, and a libbacktrace built
        // without thread support refuses a threaded state.
        state_ = backtrace_create_state(nullptr, /*threaded=*/0, ignore_error, nullptr);
      }
      const auto pc = reinterpret_cast<std::uintptr_t>(code_address);
      if (state_ != nullptr) backtrace_pcinfo(state_, pc, take_outermost, ignore_error, &described);
      if (described.file.empty()) {
        if (state_ != nullptr) backtrace_syminfo(state_, pc, take_symbol, ignore_error, &described);
        if (described.function.empty()) described.function = "?";
        described.file = "?";
      }
    }
    return {described.file.c_str(), described.function.c_str(), described.line};
  }

 private:
  std::mutex mutex_;
  backtrace_state* state_ = nullptr;  // libbacktrace's; it offers no way to free one
  std::unordered_map<const void*, Described> known_;
};

}  // namespace

AwaitSite describe_code_address(const void* code_address) {
  static CodeAddresses* const addresses = new CodeAddresses;  // used until the program ends
  return addresses->describe(code_address);
}

}  // namespace tiny_coro::detail
