// cxx_map.cpp - a C++ program with std::map, std::string and std::thread:
// new/delete reach the shim through malloc/free.
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main()
{
	std::map<std::string, long> totals;
	std::mutex lock;
	std::vector<std::thread> workers;
	for (int t = 0; t < 4; t++) {
		workers.emplace_back([t, &totals, &lock] {
			std::map<int, std::string> local;
			for (int i = 0; i < 20000; i++)
				local[i % 997] = std::to_string(i * (t + 1));
			long sum = 0;
			for (auto &kv : local)
				sum += (long)kv.second.size();
			std::lock_guard<std::mutex> g(lock);
			totals["thread" + std::to_string(t)] = sum;
		});
	}
	for (auto &w : workers)
		w.join();
	for (auto &kv : totals)
		std::printf("%s %ld\n", kv.first.c_str(), kv.second);
	return 0;
}
