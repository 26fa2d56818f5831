package dev.attn4j.cuda;

import java.util.Arrays;

/**
 * The arguments of one kernel launch, with their signature in the manifest's letters, checked against the
 * manifest before the launch. Pure Java (no JCuda type), so that argument lists are unit-tested without a
 * GPU. Device pointers travel as their 64-bit address (what a pointer parameter is).
 */
final class KernelArgs {
    private final StringBuilder signature = new StringBuilder();
    private long[] bits = new long[24];
    private int count;

    /** A device pointer (0 = null). */
    KernelArgs p(long address) {
        return add('p', address);
    }

    /** An int32. */
    KernelArgs i(int value) {
        return add('i', value);
    }

    /** An int64. */
    KernelArgs l(long value) {
        return add('l', value);
    }

    /** A float32. */
    KernelArgs f(float value) {
        return add('f', Float.floatToRawIntBits(value));
    }

    String signature() {
        return signature.toString();
    }

    int count() {
        return count;
    }

    /** Letter {@code index} of the signature. */
    char kind(int index) {
        return signature.charAt(index);
    }

    /** The raw bits of argument {@code index} (an int or float in the low 32 bits). */
    long bits(int index) {
        return bits[index];
    }

    /** Throws naming the kernel when the arguments do not spell the manifest's signature. */
    void check(KernelTable.Entry entry) {
        if (!entry.signature().contentEquals(signature)) {
            throw new IllegalStateException("kernel " + entry.name() + " takes (" + entry.signature()
                    + ") per kernels.def but the launch passes (" + signature + ")");
        }
    }

    private KernelArgs add(char kind, long value) {
        if (count == bits.length) {
            bits = Arrays.copyOf(bits, count * 2);
        }
        bits[count++] = value;
        signature.append(kind);
        return this;
    }
}
