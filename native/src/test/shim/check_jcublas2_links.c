/*
 * Run by the -Pnvcc build after it rebuilt the shim: loads the shim, then JCublas2's JNI library with
 * RTLD_NOW, so that every symbol JCublas2 imports from libcublas.so.12 must bind to a shim export of that
 * version node, or the load (and the build) fails naming the first missing one.
 * Usage: check_jcublas2_links <shim.so> <libJCublas2.so>
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <shim.so> <libJCublas2.so>\n", argv[0]);
        return 2;
    }
    if (dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) == NULL) {
        fprintf(stderr, "loading the shim failed: %s\n", dlerror());
        return 1;
    }
    if (dlopen(argv[2], RTLD_NOW | RTLD_LOCAL) == NULL) {
        fprintf(stderr, "JCublas2 does not link against the shim: %s\n", dlerror());
        return 1;
    }
    printf("JCublas2 binds every import to the shim (RTLD_NOW)\n");
    return 0;
}
