package dev.attn4j.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float species every kernel uses, chosen once per JVM: {@code -Dattn4j.simd.bits=128|256|512}
 * or {@link FloatVector#SPECIES_PREFERRED}. It must be a {@code static final} constant: a species held in
 * a field or passed as an argument defeats C2's intrinsics (measured ≈ 18× slower on a dot product), so
 * the 128- and 256-bit paths are tested in their own JVMs (surefire executions), not side by side.
 *
 * <p>Only loaded after {@link SimdBackendProvider#probe()} has found the module and a wide enough species.
 */
final class Vec {
    /** The system property that selects the vector width for tests. */
    static final String BITS_PROPERTY = "attn4j.simd.bits";

    static final VectorSpecies<Float> F = choose(System.getProperty(BITS_PROPERTY));
    /** Floats per vector. */
    static final int L = F.length();
    /** Bits per vector. */
    static final int BITS = F.vectorBitSize();
    /** The int species of {@link #F}'s shape (as many lanes). */
    static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private Vec() {
    }

    static VectorSpecies<Float> choose(String bits) {
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("-D" + BITS_PROPERTY + " must be 128, 256 or 512 but is " + bits);
        };
    }
}
