#include "load/loadgen.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace tl::loadgen {
namespace {
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double percentile(const std::vector<float>& sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted_us.size())));
  return sorted_us[std::min(sorted_us.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
}

struct Worker {
  std::unique_ptr<http::Client> client;
  std::vector<float> latencies_us;
  size_t ok = 0;
  size_t failed = 0;
  std::string first_error;
  Clock::time_point last_done;
};

void drive(const LoadSpec& spec, Worker& w, std::atomic<size_t>& next, Clock::time_point begin,
           Clock::time_point deadline) {
  const auto& check = spec.check;
  while (Clock::now() < deadline) {
    const size_t index = next.fetch_add(1, std::memory_order_relaxed);
    if (index >= spec.total_requests) break;
    Request req = spec.make_request(index);
    auto start = Clock::now();
    if (spec.rate > 0) {
      const auto due = begin + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(index) / spec.rate));
      if (due >= deadline) break;
      std::this_thread::sleep_until(due);
      start = due;
    }
    auto response = w.client->request(req.method, req.path, req.body, req.headers);
    const auto end = Clock::now();
    w.last_done = end;
    w.latencies_us.push_back(static_cast<float>(std::chrono::duration<double, std::micro>(end - start).count()));
    std::string failure;
    if (!response) {
      failure = response.error().message;
    } else if (check ? !check(*response) : (response->status < 200 || response->status > 299)) {
      failure = "request " + std::to_string(index) + ": status " + std::to_string(response->status) + ": " +
                response->body.substr(0, 200);
    }
    if (failure.empty()) {
      ++w.ok;
    } else {
      ++w.failed;
      if (w.first_error.empty()) w.first_error = std::move(failure);
    }
  }
}

}  // namespace

Result<LoadResult> run(const LoadSpec& spec) {
  if (spec.connections == 0) return Error{"load spec: connections must be at least 1"};
  if (!spec.make_request) return Error{"load spec: make_request is required"};
  if (!(spec.max_seconds > 0)) return Error{"load spec: max_seconds must be positive"};
  if (spec.rate < 0) return Error{"load spec: rate must not be negative"};

  http::ClientOptions options;
  options.ca_file = spec.ca_file;
  options.timeout_ms = spec.timeout_ms;
  LoadResult result;
  std::vector<std::unique_ptr<http::Client>> idle;
  for (unsigned i = 0; i < spec.idle_connections; ++i) {
    auto client = http::Client::create(spec.url, options);
    if (!client) return client.take_error();
    if (auto s = (*client)->connect(); !s) {
      // A server that cannot take this one will not take the next either, and
      // each attempt may cost a whole timeout.
      result.idle_error = "idle connection " + std::to_string(i) + ": " + s.error().message;
      break;
    }
    idle.push_back(std::move(*client));
  }
  result.idle_open = static_cast<unsigned>(idle.size());

  std::vector<Worker> workers(spec.connections);
  for (auto& w : workers) {
    auto client = http::Client::create(spec.url, options);
    if (!client) return client.take_error();
    w.client = std::move(*client);
    w.latencies_us.reserve(std::min<size_t>(spec.total_requests / spec.connections + 16, 1u << 20));
  }
  if (spec.connect_first) {
    for (size_t i = 0; i < workers.size(); ++i) {
      if (auto s = workers[i].client->connect(); !s) {
        return with_context("connection " + std::to_string(i), s.take_error());
      }
    }
  }

  std::atomic<size_t> next{0};
  std::latch ready(static_cast<std::ptrdiff_t>(workers.size()) + 1);
  Clock::time_point start;
  Clock::time_point deadline;
  std::mutex start_mutex;  // start/deadline are written before the latch opens
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& w : workers) {
    threads.emplace_back([&, worker = &w] {
      ready.arrive_and_wait();
      Clock::time_point begin;
      Clock::time_point until;
      {
        std::lock_guard lock(start_mutex);
        begin = start;
        until = deadline;
      }
      drive(spec, *worker, next, begin, until);
    });
  }
  const double cpu_before = cpu_seconds();
  {
    std::lock_guard lock(start_mutex);
    start = Clock::now();
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(spec.max_seconds));
  }
  ready.arrive_and_wait();
  for (auto& t : threads) t.join();

  result.driver_cpu_seconds = cpu_seconds() - cpu_before;
  Clock::time_point end = start;
  std::vector<float> all;
  for (auto& w : workers) {
    result.ok += w.ok;
    result.failed += w.failed;
    if (result.first_error.empty()) result.first_error = w.first_error;
    if (!w.latencies_us.empty()) end = std::max(end, w.last_done);
    all.insert(all.end(), w.latencies_us.begin(), w.latencies_us.end());
  }
  std::sort(all.begin(), all.end());
  result.seconds = std::chrono::duration<double>(end - start).count();
  result.rps = result.seconds > 0 ? static_cast<double>(result.ok) / result.seconds : 0;
  result.p50_ms = percentile(all, 0.50);
  result.p90_ms = percentile(all, 0.90);
  result.p99_ms = percentile(all, 0.99);
  result.max_ms = all.empty() ? 0 : all.back() / 1000.0;
  return result;
}

std::string to_json(const LoadResult& r) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                R"({"ok":%zu,"failed":%zu,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,)"
                R"("p99_ms":%.3f,"max_ms":%.3f,"driver_cpu_seconds":%.3f,"idle_open":%u})",
                r.ok, r.failed, r.seconds, r.rps, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.driver_cpu_seconds,
                r.idle_open);
  return buffer;
}

}  // namespace tl::loadgen
