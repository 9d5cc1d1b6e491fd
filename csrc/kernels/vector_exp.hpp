// exp for float32 written so that the compiler vectorises loops that call it. The C library's expf
// is a call per element, which keeps loops such as sigmoid's scalar; this one is plain arithmetic and
// selects, so GCC turns a loop of it into AVX2 code (8 lanes; the selects need -fno-trapping-math).
//
// Method: x = k ln2 + r with k = round(x / ln2) and |r| <= ln2 / 2 (ln2 split in two parts, so r is
// exact to float precision); e^r by its Taylor series to r^7 (truncation below 1e-8 relative) and
// 2^k built in the exponent bits. 2^k is applied as two halves so results below FLT_MIN come out as
// the correctly scaled subnormals, not 0. Accuracy: within 1 ulp of the correctly rounded value for
// every float from -110 to 89 (checked one by one against double exp; outside, the result is 0 or
// +Inf); the tests hold float32 sigmoid, its user, to 2 ulp.
// exp(NaN) = NaN, exp(+Inf) = +Inf, exp(-Inf) = 0, overflow gives +Inf.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace pyflux::kernels {

namespace vector_exp_detail {

inline float pow2(std::int32_t k) {  // 2^k for -126 <= k <= 127
    const std::int32_t bits = (k + 127) << 23;
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
}

}  // namespace vector_exp_detail

inline float exp_vectorisable(float x) {
    using namespace vector_exp_detail;
    constexpr float kMax = 88.72283935546875f;  // largest x with a finite float e^x
    constexpr float kMin = -104.0f;             // e^x rounds to 0 below about -103.97
    constexpr float kLog2e = 1.44269504088896341f;
    constexpr float kLn2Hi = 0.693359375f;  // few mantissa bits: k * kLn2Hi is exact
    constexpr float kLn2Lo = -2.12194440e-4f;
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
    // Every comparison is made unconditionally, so the compiler can turn the selects into blends.
    // NaN fails the first and becomes kMin here; the last line gives it back.
    const bool low = !(x >= kMin), high = x > kMax, nan = x != x;
    const float xc = low ? kMin : (high ? kMax : x);
    const float kf = (xc * kLog2e + kRound) - kRound;
    const float r = (xc - kf * kLn2Hi) - kf * kLn2Lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const auto k = static_cast<std::int32_t>(kf);  // in [-150, 128]
    const std::int32_t half = k >> 1;                // both halves in [-75, 64]
    const float e = p * pow2(half) * pow2(k - half);
    const float out = high ? std::numeric_limits<float>::infinity() : e;
    return nan ? x : out;
}

}  // namespace pyflux::kernels
