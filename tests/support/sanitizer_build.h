// Whether this binary (and so the guard beside it, built in the same tree) runs under
// AddressSanitizer. Its allocator keeps freed memory in quarantine, adds redzones and never
// hands pages back to malloc_trim, so a test's checks of memory footprint (VmRSS, VmHWM) say
// nothing about the code there; scripts/sanitize runs such tests for everything else.
#pragma once

namespace wslgo::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderAddressSanitizer = true;
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

}  // namespace wslgo::test
