package dev.attn4j.cuda;

import dev.attn4j.api.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel manifest ({@code native/src/main/cuda/kernels.def}, the resource {@code attn4j-native/kernels.def})
 * parsed: every kernel's name and parameter signature, and the flash-attention variants with their storage
 * type and tile sizes. The same file instantiates and checks the kernels in the nvcc build, so the Java side
 * and the fatbin cannot disagree on a name or a signature without a test or the module load failing.
 */
final class KernelTable {
    private static final Pattern DEFINE = Pattern.compile("^#define\\s+(\\w+)\\s+((?:\"[a-z]*\"\\s*)+)$");
    // an entry may end in a comment (the flash variants say their shared memory there)
    private static final Pattern ENTRY = Pattern.compile("^A4J_(KERNEL|FLASH)\\((.*)\\)\\s*(?://.*)?$");
    private static final Pattern STRINGS = Pattern.compile("\"([a-z]*)\"");

    /**
     * One kernel.
     *
     * @param name      the {@code extern "C"} name
     * @param signature one letter per parameter: p pointer, i int32, l int64, f float32
     * @param flash     the variant parameters of a flash-attention kernel, null for others
     */
    record Entry(String name, String signature, Flash flash) {
    }

    /**
     * A flash-attention variant: one instantiation of {@code flash_fwd<T, DMAX, BN, R>} in flash.cu.
     *
     * @param dtype       the storage type of q, k, v and out
     * @param maxHeadDim  the largest D and Dv it handles
     * @param keyTile     keys per shared-memory tile (BN, at most 32: one key per lane)
     * @param rowsPerWarp query rows per warp (R); a block has 4 warps and 4·R query rows
     */
    record Flash(DType dtype, int maxHeadDim, int keyTile, int rowsPerWarp) {
        /** Query rows per block. */
        int blockRows() {
            return 4 * rowsPerWarp;
        }

        /** The block's static shared memory: the Q tile, the K tile (rows padded by one float) and the V tile. */
        long sharedBytes() {
            return 4L * ((long) blockRows() * maxHeadDim + (long) keyTile * (2L * maxHeadDim + 1));
        }

        /** The tile in a name or token: {@code d64_n32_r4} is bound 64, key tile 32, 4 rows per warp. */
        String tile() {
            return "d" + maxHeadDim + "_n" + keyTile + "_r" + rowsPerWarp;
        }
    }

    private final Map<String, Entry> entries;
    /** The flash variants by their tile: {@link #flashVariant} runs on every fused attention call. */
    private final Map<Flash, Entry> flashByTile = new HashMap<>();

    private KernelTable(Map<String, Entry> entries) {
        this.entries = Collections.unmodifiableMap(entries);
        for (Entry e : entries.values()) {
            Entry twin = e.flash() == null ? null : flashByTile.put(e.flash(), e);
            if (twin != null) {
                throw new IllegalArgumentException("kernels.def lists " + twin.name() + " and " + e.name()
                        + " with the same storage type and tile " + e.flash().tile());
            }
        }
    }

    /** The table of the manifest on the class path. */
    static KernelTable load() {
        return parse(NativeResources.text(NativeResources.MANIFEST));
    }

    /** Parses manifest text. */
    static KernelTable parse(String text) {
        Map<String, String> constants = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        int lineNo = 0;
        for (String raw : text.split("\n")) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("//")) {
                continue;
            }
            Matcher define = DEFINE.matcher(line);
            if (define.matches()) {
                constants.put(define.group(1), strings(define.group(2)));
                continue;
            }
            Matcher m = ENTRY.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("kernels.def line " + lineNo + " is neither a comment, a #define of a "
                        + "signature nor an A4J_KERNEL/A4J_FLASH entry: " + line);
            }
            List<String> args = splitArgs(m.group(2));
            String name = args.get(0);
            String sigArg = args.get(args.size() - 1);
            String signature = sigArg.startsWith("\"") ? strings(sigArg) : constants.get(sigArg);
            if (signature == null || !signature.matches("[pilf]+")) {
                throw new IllegalArgumentException("kernels.def line " + lineNo + ": kernel " + name
                        + " has no valid signature (" + sigArg + ")");
            }
            Flash flash = null;
            if (m.group(1).equals("FLASH")) {
                if (args.size() != 6) {
                    throw new IllegalArgumentException("kernels.def line " + lineNo
                            + ": A4J_FLASH takes (name, type, max head dim, key tile, rows per warp, signature)");
                }
                DType dtype = switch (args.get(1)) {
                    case "float" -> DType.FLOAT32;
                    case "__half" -> DType.FLOAT16;
                    case "__nv_bfloat16" -> DType.BFLOAT16;
                    default -> throw new IllegalArgumentException("kernels.def line " + lineNo
                            + ": unknown storage type " + args.get(1));
                };
                flash = new Flash(dtype, Integer.parseInt(args.get(2)), Integer.parseInt(args.get(3)),
                        Integer.parseInt(args.get(4)));
            } else if (args.size() != 2) {
                throw new IllegalArgumentException("kernels.def line " + lineNo + ": A4J_KERNEL takes (name, signature)");
            }
            if (entries.put(name, new Entry(name, signature, flash)) != null) {
                throw new IllegalArgumentException("kernels.def line " + lineNo + ": kernel " + name + " is listed twice");
            }
        }
        return new KernelTable(entries);
    }

    /** Every entry, in manifest order. */
    Map<String, Entry> entries() {
        return entries;
    }

    /** The entry of a kernel; throws naming the kernel when the manifest has none. */
    Entry get(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalStateException("kernel " + name + " is not in kernels.def");
        }
        return e;
    }

    /**
     * The ESTIMATE flash-attention variant for a storage type and head sizes: the smallest head-dim bound that
     * covers both, at that bound's {@linkplain #flashDefault default tile}; null when no bound does (the caller
     * then takes the unfused GEMM path).
     */
    Entry flashFor(DType dtype, int headDim, int valueDim) {
        int need = Math.max(headDim, valueDim);
        int bound = Integer.MAX_VALUE;
        for (Entry e : entries.values()) {
            if (e.flash() != null && e.flash().dtype() == dtype && e.flash().maxHeadDim() >= need) {
                bound = Math.min(bound, e.flash().maxHeadDim());
            }
        }
        return bound == Integer.MAX_VALUE ? null : flashDefault(dtype, bound);
    }

    /**
     * The default tile of a head-dim bound, or null when the bound has no variant: the largest key tile (every
     * lane scores a key), then the most rows per warp up to 4. That is BN 32, R 4 up to bound 128 and BN 16,
     * R 2 at 256, the one shape each bound had before the tile became a tuning knob; it is not a measured
     * choice (no GPU has timed the variants yet), only the one that keeps older wisdom and untuned calls where
     * they were.
     */
    Entry flashDefault(DType dtype, int maxHeadDim) {
        Entry best = null;
        for (Entry e : entries.values()) {
            Flash f = e.flash();
            if (f == null || f.dtype() != dtype || f.maxHeadDim() != maxHeadDim) {
                continue;
            }
            if (best == null || rank(f) > rank(best.flash())) {
                best = e;
            }
        }
        return best;
    }

    private static int rank(Flash f) {
        // the key tile first; then the rows per warp, more ranking higher up to 4, any R above 4 below those
        int r = f.rowsPerWarp() <= 4 ? 64 + f.rowsPerWarp() : 64 - f.rowsPerWarp();
        return f.keyTile() * 128 + r;
    }

    /** The flash-attention variant with exactly this storage type and tile, or null. */
    Entry flashVariant(DType dtype, int maxHeadDim, int keyTile, int rowsPerWarp) {
        return flashByTile.get(new Flash(dtype, maxHeadDim, keyTile, rowsPerWarp));
    }

    /**
     * The flash-attention variants of a storage type whose bound covers {@code headDim}: ascending bound, each
     * bound's default first, then the manifest's order.
     */
    List<Entry> flashVariants(DType dtype, int headDim) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.flash() != null && e.flash().dtype() == dtype && e.flash().maxHeadDim() >= headDim) {
                out.add(e);
            }
        }
        out.sort(Comparator.comparingInt((Entry e) -> e.flash().maxHeadDim())
                .thenComparing(e -> !e.equals(flashDefault(dtype, e.flash().maxHeadDim()))));
        return out;
    }

    private static String strings(String literals) {
        StringBuilder sb = new StringBuilder();
        Matcher m = STRINGS.matcher(literals);
        while (m.find()) {
            sb.append(m.group(1));
        }
        return sb.toString();
    }

    private static List<String> splitArgs(String args) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : args.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                out.add(cur.toString().strip());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString().strip());
        return out;
    }
}
