// The manual's queue header: the two queues behind the work-stealing scheduler.
#pragma once

#include <tiny_coro/global_queue.h>
#include <tiny_coro/steal_queue.h>

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::GlobalQueue;
using tiny_coro::StealQueue;
#endif
