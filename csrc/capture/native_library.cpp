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

}  // namespace pyflux::capture
