/*
 * libcublas.so.12 -> libcublas.so.13 forwarding shim (x86-64 Linux).
 *
 * JCuda 12.6's libJCublas2 links libcublas.so.12 and imports every cuBLAS symbol with the version node
 * libcublas.so.12. Machines with only CUDA 13 have libcublas.so.13, whose GEMM signatures and enum values are
 * unchanged from 12. This library has SONAME libcublas.so.12, defines that version node (cublas_shim.map) and
 * exports one stub per imported symbol (cublas_symbols.def). A stub jumps through its slot; the first call of
 * each finds its slot empty and goes through a4j_trampoline, which saves every argument register, asks
 * a4j_resolve for the target (dlsym in libcublas.so.13, which attn4j has already loaded by absolute path, so
 * dlopen finds it by SONAME), stores it in the slot and tail-jumps to it with the caller's arguments and stack
 * untouched. A symbol libcublas.so.13 lacks (or a missing libcublas.so.13) resolves to a function returning
 * CUBLAS_STATUS_NOT_SUPPORTED (15); cublasGetStatusName/String return a string saying so instead.
 *
 * The stubs never touch the stack, so any signature forwards: register and stack arguments, varargs (%al).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

/* Bind to the oldest x86-64 versions so that the shim loads on any glibc (dlopen moved into libc.so.6 with
   version GLIBC_2.34 in glibc 2.34; GLIBC_2.2.5 is defined by libdl.so.2 before and libc.so.6 after). */
__asm__(".symver dlopen, dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");

#define A4J_HIDDEN __attribute__((visibility("hidden")))

struct a4j_entry {
    void *fn;          /* the resolved target, null until the first call */
    const char *name;  /* the symbol looked up in libcublas.so.13 */
};

static void *a4j_library;

/** libcublas.so.13, opened once; two threads racing here both get the same handle (dlopen counts). */
static void *a4j_open(void) {
    void *lib = __atomic_load_n(&a4j_library, __ATOMIC_ACQUIRE);
    if (lib == NULL) {
        lib = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
        __atomic_store_n(&a4j_library, lib, __ATOMIC_RELEASE);
    }
    return lib;
}

static int a4j_not_supported(void) {
    return 15; /* CUBLAS_STATUS_NOT_SUPPORTED */
}

static const char *a4j_not_supported_string(int status) {
    (void) status;
    return "CUBLAS_STATUS_NOT_SUPPORTED (attn4j's libcublas.so.12 shim found no libcublas.so.13 function)";
}

/** Called by a4j_trampoline with the entry of the stub that was called; returns the function to jump to. */
A4J_HIDDEN void *a4j_resolve(struct a4j_entry *entry) {
    void *fn = __atomic_load_n(&entry->fn, __ATOMIC_ACQUIRE);
    if (fn != NULL) {
        return fn;
    }
    void *lib = a4j_open();
    fn = lib != NULL ? dlsym(lib, entry->name) : NULL;
    if (fn == NULL) {
        fn = strncmp(entry->name, "cublasGetStatus", 15) == 0 ? (void *) a4j_not_supported_string
                                                              : (void *) a4j_not_supported;
    }
    __atomic_store_n(&entry->fn, fn, __ATOMIC_RELEASE);
    return fn;
}

/** Whether libcublas.so.13 could be opened (1) or not (0); for diagnostics, resolves nothing. */
int a4j_cublas_shim_target_loaded(void) {
    return a4j_open() != NULL;
}

/*
 * On entry %rsp = 8 mod 16 (the caller's return address is on top); %r11 holds the entry. Saves the six
 * integer argument registers, %rax (the vector-register count of a varargs call) and %xmm0-7, calls
 * a4j_resolve with an aligned stack, restores them and jumps to the target, which returns to the caller.
 */
__asm__(
    "    .text\n"
    "    .p2align 4\n"
    "    .type a4j_trampoline, @function\n"
    "a4j_trampoline:\n"
    "    pushq %rbp\n"
    "    movq %rsp, %rbp\n"
    "    subq $192, %rsp\n"
    "    movq %rdi, 0(%rsp)\n"
    "    movq %rsi, 8(%rsp)\n"
    "    movq %rdx, 16(%rsp)\n"
    "    movq %rcx, 24(%rsp)\n"
    "    movq %r8, 32(%rsp)\n"
    "    movq %r9, 40(%rsp)\n"
    "    movq %rax, 48(%rsp)\n"
    "    movdqa %xmm0, 64(%rsp)\n"
    "    movdqa %xmm1, 80(%rsp)\n"
    "    movdqa %xmm2, 96(%rsp)\n"
    "    movdqa %xmm3, 112(%rsp)\n"
    "    movdqa %xmm4, 128(%rsp)\n"
    "    movdqa %xmm5, 144(%rsp)\n"
    "    movdqa %xmm6, 160(%rsp)\n"
    "    movdqa %xmm7, 176(%rsp)\n"
    "    movq %r11, %rdi\n"
    "    call a4j_resolve\n"
    "    movq %rax, %r11\n"
    "    movq 0(%rsp), %rdi\n"
    "    movq 8(%rsp), %rsi\n"
    "    movq 16(%rsp), %rdx\n"
    "    movq 24(%rsp), %rcx\n"
    "    movq 32(%rsp), %r8\n"
    "    movq 40(%rsp), %r9\n"
    "    movq 48(%rsp), %rax\n"
    "    movdqa 64(%rsp), %xmm0\n"
    "    movdqa 80(%rsp), %xmm1\n"
    "    movdqa 96(%rsp), %xmm2\n"
    "    movdqa 112(%rsp), %xmm3\n"
    "    movdqa 128(%rsp), %xmm4\n"
    "    movdqa 144(%rsp), %xmm5\n"
    "    movdqa 160(%rsp), %xmm6\n"
    "    movdqa 176(%rsp), %xmm7\n"
    "    leave\n"
    "    jmp *%r11\n"
    "    .size a4j_trampoline, .-a4j_trampoline\n");

/* One entry and one exported stub per symbol of cublas_symbols.def. */
#define A4J_CUBLAS(name)                                                              \
    A4J_HIDDEN struct a4j_entry a4j_entry_##name = {NULL, #name};                     \
    __asm__("    .text\n"                                                             \
            "    .p2align 4\n"                                                        \
            "    .globl " #name "\n"                                                  \
            "    .type " #name ", @function\n" #name ":\n"                            \
            "    movq a4j_entry_" #name "(%rip), %r11\n"                              \
            "    testq %r11, %r11\n"                                                  \
            "    jz 1f\n"                                                             \
            "    jmp *%r11\n"                                                         \
            "1:  leaq a4j_entry_" #name "(%rip), %r11\n"                              \
            "    jmp a4j_trampoline\n"                                                \
            "    .size " #name ", .-" #name "\n");
#include "cublas_symbols.def"
