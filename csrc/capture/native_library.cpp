#include "capture/native_library.hpp"

#include <dlfcn.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>

namespace pyflux::capture {

autodiff::TinySteps load_native(const std::string& path) {
    static std::mutex mutex;
    static std::map<std::string, autodiff::TinySteps> loaded;
    const std::lock_guard<std::mutex> lock(mutex);
    if (const auto it = loaded.find(path); it != loaded.end()) return it->second;
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) throw std::runtime_error("native step: cannot load " + path + ": " + dlerror());
    const auto abi = reinterpret_cast<std::uint64_t (*)()>(dlsym(library, "pyflux_steps_abi"));
    const auto steps = reinterpret_cast<autodiff::TinySteps>(dlsym(library, "pyflux_steps"));
    if (!abi || !steps || abi() != autodiff::tiny_abi()) {
        dlclose(library);
        throw std::runtime_error("native step: " + path + " was not built for this pyflux");
    }
    loaded.emplace(path, steps);
    return steps;
}

namespace {

std::mutex known_mutex;
std::map<std::string, autodiff::TinySteps> known;

}  // namespace

void remember_native(const std::string& signature, autodiff::TinySteps steps) {
    const std::lock_guard<std::mutex> lock(known_mutex);
    known[signature] = steps;
}

autodiff::TinySteps known_native(const std::string& signature) {
    const std::lock_guard<std::mutex> lock(known_mutex);
    const auto it = known.find(signature);
    return it != known.end() ? it->second : nullptr;
}

void forget_known_natives() {
    const std::lock_guard<std::mutex> lock(known_mutex);
    known.clear();
}

}  // namespace pyflux::capture
