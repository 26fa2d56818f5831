// The one translation unit nvcc compiles into attn4j_kernels.fatbin (a single module for cuModuleLoadData),
// followed by the check that every kernel of kernels.def exists with the signature written there.
#include "layout.cu"
#include "softmax.cu"
#include "blocks.cu"
#include "flash.cu"
#include "classic.cu"

namespace a4j {

template <class T> struct sig_char { static constexpr char value = '?'; };
template <class T> struct sig_char<T*> { static constexpr char value = 'p'; };
template <> struct sig_char<int> { static constexpr char value = 'i'; };
template <> struct sig_char<long long> { static constexpr char value = 'l'; };
template <> struct sig_char<float> { static constexpr char value = 'f'; };

/** Whether the parameter types of a kernel spell {@code expected} in the manifest's letters. */
template <class... A>
constexpr bool signature_is(void (*)(A...), const char* expected) {
    constexpr char actual[] = {sig_char<A>::value..., '\0'};
    for (int i = 0;; ++i) {
        if (actual[i] != expected[i]) return false;
        if (actual[i] == '\0') return true;
    }
}

}  // namespace a4j

#define A4J_KERNEL(name, signature) \
    static_assert(a4j::signature_is(&name, signature), #name ": parameters differ from kernels.def");
#define A4J_FLASH(name, T, DMAX, BN, R, signature) A4J_KERNEL(name, signature)
#include "kernels.def"
#undef A4J_KERNEL
#undef A4J_FLASH
