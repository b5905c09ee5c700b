// Scheduler::dump_tasks(): every live task, what it waits for and where.
//
// Reading another task's frames is safe only while nothing runs them, so the dump pauses the
// workers at their safe point between tasks (Worker::safepoint; a sleeping worker stays
// asleep), copies what it needs from a slice of the task tables (at most kTasksPerPause tasks
// or kSliceBudget), lets the workers run at least as long as the pause lasted, and repeats
// until the tables are done. Frames of tasks in the
// tables are destroyed only by code that runs on the workers (a task finishing leaves its
// table first) or by shutdown, which waits for a dump in progress (dump_mutex_).
//
// What is copied per task: its frame address (its id), its start, and its await chain — from
// the spawned coroutine down through each Task it awaits, the note of each co_await (its
// site, or the program counter of its suspension: detail/await_record.h) and what the
// innermost one waits for. Formatting happens after the pause, and turns program counters
// into sites then (code_address.h), since the first one reads the debug information.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "runtime/code_address.h"
#include "runtime/scheduler_core.h"
#include "runtime/worker.h"

namespace tiny_coro::detail {
namespace {

// How long one pause may last, and how many slots are looked at between clock reads.
constexpr std::chrono::microseconds kSliceBudget{500};
constexpr std::size_t kSlotsPerCheck = 256;
// The least time the workers run between two pauses.
constexpr std::chrono::microseconds kRunBetweenPauses{100};
// At most this many tasks per pause: the snapshot's vectors are grown for them before the
// pause, so that no pause pays for a reallocation.
constexpr std::size_t kTasksPerPause = 1024;
// A worker that runs one task this long without suspending makes the dump give up.
constexpr std::chrono::milliseconds kPatience{1000};
// Deeper await chains are cut (a cycle would be a bug; this keeps the dump finite anyway).
constexpr std::size_t kMaxChain = 64;
// Above this many queued tasks "ready" is not worked out (each slice would rebuild the set).
constexpr std::size_t kMaxReadySet = 65536;

enum class TaskState { kReady, kRunning, kSuspended };

struct TaskEntry {
  const void* id;
  std::int64_t spawned_at_ns;
  TaskState state;
  const char* waits_for;   // the innermost co_await's kind; null: not started
  std::size_t first_site;  // its sites in Snapshot::sites, outermost first
  std::size_t site_count;
};

struct Snapshot {
  std::vector<TaskEntry> tasks;
  std::vector<AwaitNote> sites;
  std::size_t pauses = 0;
  std::chrono::nanoseconds longest_pause{0};
};

class SliceReader {
 public:
  SliceReader(Snapshot& out, const std::unordered_set<const void*>& ready, const void* running)
      : out_(out), ready_(ready), running_(running) {}

  void operator()(const PromiseBase& root) {
    TaskEntry entry{root.frame(), root.spawned_at_ns_, TaskState::kSuspended,
                    nullptr,      out_.sites.size(),   0};
    const PromiseBase* innermost = &root;
    for (const PromiseBase* frame = &root; frame != nullptr && entry.site_count < kMaxChain;) {
      // The frame this worker runs (the dump was called from its task): its note may name a
      // callee that has finished and been freed since, so the walk stops before it.
      if (frame->frame() == running_) {
        entry.state = TaskState::kRunning;
        entry.waits_for = "nothing: it runs";
        break;
      }
      const AwaitNote note = frame->await_.read();
      if (!note.known()) break;  // not awaited yet: still in its first stretch
      out_.sites.push_back(note);
      ++entry.site_count;
      innermost = frame;
      entry.waits_for = note.kind != nullptr ? note.kind : "await";  // not suspended there
      frame = note.callee;
    }
    if (entry.state != TaskState::kRunning &&
        (ready_.contains(innermost->frame()) || ready_.contains(root.frame()))) {
      entry.state = TaskState::kReady;
    }
    out_.tasks.push_back(entry);
  }

 private:
  Snapshot& out_;
  const std::unordered_set<const void*>& ready_;
  const void* running_;
};

// "tiny_coro::Task<int> ns::fetch(ns::fetch(int)::_Z...Frame*)" (g++'s name for a coroutine's
// body) or "fetch" (clang's builtin) -> "ns::fetch".
std::string_view short_function_name(std::string_view name) {
  if (const auto paren = name.find('('); paren != std::string_view::npos) {
    name = name.substr(0, paren);
  }
  int depth = 0;
  for (std::size_t i = name.size(); i-- > 0;) {
    if (name[i] == '>') ++depth;
    if (name[i] == '<') --depth;
    if (name[i] == ' ' && depth == 0) return name.substr(i + 1);
  }
  return name;
}

template <class T>
void grow_for(std::vector<T>& items, std::size_t more) {
  if (items.capacity() - items.size() >= more) return;
  items.reserve(std::max(items.size() + more, 2 * items.capacity()));
}

void append_number(std::string& out, std::uint64_t value, int base) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), value, base).ptr;
  out.append(digits, end);
}

// A noted program counter becomes a site only here, after the pauses: the first one reads
// the program's debug information.
AwaitSite site_of(const AwaitNote& note) {
#if TINY_CORO_AWAIT_PCS
  if (note.code_address != nullptr) return describe_code_address(note.code_address);
#endif
  return note.site;
}

const char* state_name(TaskState state) {
  switch (state) {
    case TaskState::kReady:
      return "ready";
    case TaskState::kRunning:
      return "running";
    case TaskState::kSuspended:
      break;
  }
  return "suspended";
}

std::string format(const Snapshot& snapshot, std::size_t workers) {
  char footer[160];
  std::snprintf(footer, sizeof(footer),
                "\n(read in %zu pauses of the workers, the longest %.3f ms)\n", snapshot.pauses,
                std::chrono::duration<double, std::milli>(snapshot.longest_pause).count());
  std::string out;
  out.reserve(snapshot.tasks.size() * 160 + 128);
  char line[256];
  std::snprintf(line, sizeof(line), "tiny_coro task dump: %zu tasks, %zu workers\n",
                snapshot.tasks.size(), workers);
  out += line;
  if (!TINY_CORO_TRACK_AWAITS) out += "(await chains off: built with TINY_CORO_TRACK_AWAITS=0)\n";
  const std::int64_t now = steady_ns();
  for (const TaskEntry& task : snapshot.tasks) {
    // By hand rather than snprintf: a million tasks make this loop the dump's main cost.
    const std::int64_t age_ms = std::max<std::int64_t>(0, now - task.spawned_at_ns) / 1'000'000;
    out += "\ntask 0x";
    append_number(out, reinterpret_cast<std::uintptr_t>(task.id), 16);
    out += " [";
    out += state_name(task.state);
    out += ", ";
    append_number(out, static_cast<std::uint64_t>(age_ms / 1000), 10);
    out += '.';
    const auto millis = static_cast<std::uint64_t>(age_ms % 1000);
    if (millis < 100) out += '0';
    if (millis < 10) out += '0';
    append_number(out, millis, 10);
    out += "s] ";
    out += task.waits_for != nullptr ? task.waits_for : "not started";
    out += '\n';
    for (std::size_t i = task.site_count; i-- > 0;) {
      const AwaitSite site = site_of(snapshot.sites[task.first_site + i]);
      out += "    ";
      out += short_function_name(site.function != nullptr ? site.function : "?");
      out += "  ";
      out += site.file;
      out += ':';
      append_number(out, static_cast<std::uint64_t>(site.line), 10);
      out += '\n';
    }
  }
  out += footer;
  return out;
}

}  // namespace

std::string SchedulerCore::dump_tasks() {
  Worker* self = current_worker();
  std::unique_lock dump(dump_mutex_, std::try_to_lock);
  while (!dump.owns_lock()) {
    // Another dump runs, and may be waiting for this very worker to pause.
    if (self != nullptr) self->pause_if_requested();
    std::this_thread::yield();
    (void)dump.try_lock();
  }
  if (stopping()) return "tiny_coro task dump: the scheduler has shut down\n";

  // The tables: each worker's, then the one of tasks spawned from other threads.
  std::vector<const TaskSlots*> tables;
  for (const auto& worker : workers_) tables.push_back(&worker->spawned_tasks());
  tables.push_back(&outside_tasks_);

  Snapshot snapshot;
  std::unordered_set<const void*> ready;
  std::size_t table = 0;
  std::size_t slot = 0;
  while (table < tables.size()) {
    // Room for this pause's tasks, made before the pause (doubling, so that the copies add
    // up to O(n)): near the end of a million tasks one reallocation copies tens of megabytes.
    grow_for(snapshot.tasks, kTasksPerPause);
    grow_for(snapshot.sites, kTasksPerPause * 4 + kSlotsPerCheck * kMaxChain);
    // The pause is counted from the request: a worker may stop at its safe point at once.
    const auto pause_begin = std::chrono::steady_clock::now();
    std::vector<std::size_t> busy;
    if (!pause_workers(self, kPatience, busy)) {
      std::string out = "tiny_coro task dump: incomplete: worker";
      for (std::size_t index : busy) out += " " + std::to_string(index);
      out += " kept running one task for over a second without suspending\n";
      return out + format(snapshot, workers_.size());  // what was read before
    }
    const std::size_t tasks_before = snapshot.tasks.size();
    const auto slice_end = std::chrono::steady_clock::now() + kSliceBudget;
    // What is queued, in this pause: paused workers' queues (a sleeping one's may change
    // under its reactor's callbacks, so it is not read), ours, and the global queue.
    ready.clear();
    std::size_t queued = 0;
    auto note_ready = [&](const void* frame) {
      if (++queued <= kMaxReadySet) ready.insert(frame);
    };
    for (const auto& worker : workers_) {
      if (worker.get() == self || worker->run_state() == Worker::RunState::kPaused) {
        worker->for_each_queued_while_paused(note_ready);
      }
    }
    global_.for_each_locked(note_ready);
    const void* running = self != nullptr ? self->running_frame() : nullptr;
    SliceReader read(snapshot, ready, running);
    {
      // Tasks spawned from other threads are recorded under this lock, not by a worker.
      std::unique_lock outside(outside_tasks_mutex_, std::defer_lock);
      if (tables[table] == &outside_tasks_) outside.lock();
      while (table < tables.size() && std::chrono::steady_clock::now() < slice_end &&
             snapshot.tasks.size() - tasks_before + kSlotsPerCheck <= kTasksPerPause &&
             snapshot.sites.capacity() - snapshot.sites.size() >= kSlotsPerCheck * kMaxChain) {
        slot = tables[table]->visit_recorded(slot, kSlotsPerCheck, read);
        if (slot == TaskSlots::npos) {
          ++table;
          slot = 0;
          break;  // the next table in the next pause (and under its own lock)
        }
      }
    }
    resume_workers();
    const auto pause = std::chrono::steady_clock::now() - pause_begin;
    ++snapshot.pauses;
    snapshot.longest_pause = std::max(snapshot.longest_pause,
                                      std::chrono::duration_cast<std::chrono::nanoseconds>(pause));
    if (table < tables.size()) {
      // Let the workers run between two pauses, as long as the pause lasted and at least
      // kRunBetweenPauses: back to back, a woken worker would find the next pause already
      // requested and never run a task, and the dump would stop them for its whole length.
      std::this_thread::sleep_for(
          std::max<std::chrono::steady_clock::duration>(pause, kRunBetweenPauses));
    }
  }
  return format(snapshot, workers_.size());
}

}  // namespace tiny_coro::detail
