package dev.attn4j.ci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format, versions 1.0, 2.0 and 3.0: magic {@code \x93NUMPY}, two version bytes, a
 * little-endian header length (uint16 in 1.0, uint32 after), an ASCII/UTF-8 Python dict literal
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }} padded with spaces and ended by a
 * newline, then the raw data in C order.
 *
 * <p>Reads the dtypes the conformance cases use: {@code <f4} float32, {@code <f2} float16, {@code <f8}
 * float64, {@code <i8} int64, {@code <i4} int32, {@code |b1} bool, {@code |u1} uint8, {@code |i1} int8.
 * Shape {@code ()} is a scalar with one element. Malformed files fail with an {@link NpyFormatException}
 * naming the file and what is wrong.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** The element types this reader understands. */
    public enum Kind {
        /** {@code <f4}. */
        FLOAT32("<f4", 4),
        /** {@code <f2}. */
        FLOAT16("<f2", 2),
        /** {@code <f8}. */
        FLOAT64("<f8", 8),
        /** {@code <i8}. */
        INT64("<i8", 8),
        /** {@code <i4}. */
        INT32("<i4", 4),
        /** {@code |i1}. */
        INT8("|i1", 1),
        /** {@code |u1}. */
        UINT8("|u1", 1),
        /** {@code |b1}: one byte, 0 or 1. */
        BOOL("|b1", 1);

        private final String descr;
        private final int size;

        Kind(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        /** The NumPy type string, e.g. {@code <f4}. */
        public String descr() {
            return descr;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }

        /** Whether the values are floating point. */
        public boolean isFloat() {
            return this == FLOAT32 || this == FLOAT16 || this == FLOAT64;
        }

        static Kind of(String descr) {
            // '=' (native) and '<' are both little-endian on every machine we run on; one-byte types have no order
            String d = descr.length() == 3 && descr.charAt(0) == '=' ? "<" + descr.substring(1) : descr;
            if (d.length() == 3 && d.charAt(2) == '1' && (d.charAt(0) == '<' || d.charAt(0) == '>')) {
                d = "|" + d.substring(1);
            }
            for (Kind k : values()) {
                if (k.descr.equals(d)) {
                    return k;
                }
            }
            return null;
        }
    }

    /**
     * One array: its element kind, shape and little-endian C-order bytes.
     *
     * @param kind  element type
     * @param shape dimensions ({@code []} for a scalar)
     * @param data  {@code count(shape)·kind.size()} bytes, little-endian
     */
    public record Array(Kind kind, int[] shape, ByteBuffer data) {
        /** Checks the data length. */
        public Array {
            Objects.requireNonNull(kind, "kind");
            shape = shape.clone();
            data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long need = count(shape) * kind.size();
            if (data.remaining() != need) {
                throw new IllegalArgumentException("an array of shape " + Arrays.toString(shape) + " and dtype "
                        + kind.descr() + " needs " + need + " bytes but has " + data.remaining());
            }
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** Number of elements (1 for a scalar). */
        public int size() {
            return Math.toIntExact(count(shape));
        }

        /** The values as float32; float64 and integers are converted, bools become 0 and 1. */
        public float[] toFloats() {
            int n = size();
            float[] out = new float[n];
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (kind) {
                    case FLOAT32 -> b.getFloat(4 * i);
                    case FLOAT16 -> Float.float16ToFloat(b.getShort(2 * i));
                    case FLOAT64 -> (float) b.getDouble(8 * i);
                    case INT64 -> (float) b.getLong(8 * i);
                    case INT32 -> (float) b.getInt(4 * i);
                    case INT8 -> b.get(i);
                    case UINT8 -> b.get(i) & 0xFF;
                    case BOOL -> b.get(i) != 0 ? 1f : 0f;
                };
            }
            return out;
        }

        /** The values as longs; only for integer and bool kinds. */
        public long[] toLongs() {
            int n = size();
            long[] out = new long[n];
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (kind) {
                    case INT64 -> b.getLong(8 * i);
                    case INT32 -> b.getInt(4 * i);
                    case INT8 -> b.get(i);
                    case UINT8, BOOL -> b.get(i) & 0xFF;
                    case FLOAT32, FLOAT16, FLOAT64 -> throw new IllegalStateException(
                            "a " + kind.descr() + " array cannot be read as integers");
                };
            }
            return out;
        }

        /** The values as bytes, 0 for false and 1 for true (bool, uint8 and int8 kinds only, nonzero = true). */
        public byte[] toBooleanBytes() {
            if (kind != Kind.BOOL && kind != Kind.UINT8 && kind != Kind.INT8) {
                throw new IllegalStateException("a " + kind.descr() + " array cannot be read as booleans");
            }
            int n = size();
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                out[i] = (byte) (data.get(data.position() + i) != 0 ? 1 : 0);
            }
            return out;
        }

        @Override
        public String toString() {
            return "npy[" + kind.descr() + " " + Arrays.toString(shape) + "]";
        }
    }

    /** A malformed or unsupported {@code .npy} file. */
    public static final class NpyFormatException extends IOException {
        private static final long serialVersionUID = 1L;

        NpyFormatException(String message) {
            super(message);
        }
    }

    /** Reads a file. */
    public static Array read(Path file) throws IOException {
        return parse(Files.readAllBytes(file), file.toString());
    }

    /** Parses the bytes of a {@code .npy} file; {@code name} is used in error messages. */
    public static Array parse(byte[] bytes, String name) throws NpyFormatException {
        if (bytes.length < 10) {
            throw new NpyFormatException(name + ": not a .npy file: only " + bytes.length + " bytes");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new NpyFormatException(name + ": not a .npy file: the magic string \\x93NUMPY is missing");
            }
        }
        int major = bytes[6] & 0xFF;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        switch (major) {
            case 1 -> {
                headerLen = b.getShort(8) & 0xFFFF;
                headerStart = 10;
            }
            case 2, 3 -> {
                if (bytes.length < 12) {
                    throw new NpyFormatException(name + ": truncated .npy " + major + ".0 preamble");
                }
                headerLen = b.getInt(8) & 0xFFFFFFFFL;
                headerStart = 12;
            }
            default -> throw new NpyFormatException(name + ": unsupported .npy version " + major + "." + (bytes[7] & 0xFF)
                    + " (1.0, 2.0 and 3.0 are supported)");
        }
        if (headerStart + headerLen > bytes.length) {
            throw new NpyFormatException(name + ": the header claims " + headerLen + " bytes but the file has only "
                    + (bytes.length - headerStart) + " after the preamble");
        }
        String header = new String(bytes, headerStart, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        if (!header.startsWith("{") || !header.endsWith("}")) {
            throw new NpyFormatException(name + ": malformed header, expected a dict literal but found '" + header + "'");
        }
        Matcher descr = DESCR.matcher(header);
        if (!descr.find()) {
            throw new NpyFormatException(name + ": malformed header, no 'descr' in '" + header + "'");
        }
        Kind kind = Kind.of(descr.group(1));
        if (kind == null) {
            throw new NpyFormatException(name + ": unsupported dtype '" + descr.group(1)
                    + "' (supported: <f4, <f2, <f8, <i8, <i4, |i1, |u1, |b1)");
        }
        Matcher fortran = FORTRAN.matcher(header);
        if (!fortran.find()) {
            throw new NpyFormatException(name + ": malformed header, no 'fortran_order' in '" + header + "'");
        }
        Matcher shapeM = SHAPE.matcher(header);
        if (!shapeM.find()) {
            throw new NpyFormatException(name + ": malformed header, no 'shape' tuple in '" + header + "'");
        }
        int[] shape = parseShape(shapeM.group(1), name, header);
        if (fortran.group(1).equals("True") && nonTrivialAxes(shape) > 1) {
            throw new NpyFormatException(name + ": fortran_order True is not supported (arrays must be C order)");
        }
        long count;
        try {
            count = count(shape);
        } catch (ArithmeticException e) {
            throw new NpyFormatException(name + ": shape " + Arrays.toString(shape) + " is too large");
        }
        long dataStart = headerStart + headerLen;
        long need = count * kind.size();
        long have = bytes.length - dataStart;
        if (have < need) {
            throw new NpyFormatException(name + ": truncated data: shape " + Arrays.toString(shape) + " of "
                    + kind.descr() + " needs " + need + " bytes but the file holds " + have);
        }
        if (have > need) {
            throw new NpyFormatException(name + ": " + (have - need) + " unexpected trailing bytes after the data of shape "
                    + Arrays.toString(shape) + " and dtype " + kind.descr());
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) dataStart, (int) need).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new Array(kind, shape, data);
    }

    private static int[] parseShape(String inner, String name, String header) throws NpyFormatException {
        List<Integer> dims = new ArrayList<>();
        for (String part : inner.split(",")) {
            String p = part.strip();
            if (p.endsWith("L")) {
                p = p.substring(0, p.length() - 1);
            }
            if (p.isEmpty()) {
                continue;
            }
            try {
                int d = Integer.parseInt(p);
                if (d < 0) {
                    throw new NumberFormatException();
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(name + ": malformed shape '(" + inner + ")' in header '" + header + "'");
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int nonTrivialAxes(int[] shape) {
        int n = 0;
        for (int d : shape) {
            if (d > 1) {
                n++;
            }
        }
        return n;
    }

    static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    // ------------------------------------------------------------------ writing (tests, generated cases)

    /** Writes a v1.0 {@code .npy} file of float32 values. */
    public static void writeFloat32(Path file, float[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        write(file, Kind.FLOAT32, shape, b.array());
    }

    /** Writes a v1.0 {@code .npy} file of int64 values. */
    public static void writeInt64(Path file, long[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        write(file, Kind.INT64, shape, b.array());
    }

    /** Writes a v1.0 {@code .npy} file of booleans. */
    public static void writeBool(Path file, boolean[] values, int... shape) throws IOException {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        write(file, Kind.BOOL, shape, bytes);
    }

    /** Writes a v1.0 {@code .npy} file of the given kind from little-endian bytes. */
    public static void write(Path file, Kind kind, int[] shape, byte[] littleEndianData) throws IOException {
        Files.write(file, encode(kind, shape, littleEndianData));
    }

    /** Encodes a v1.0 {@code .npy} file of the given kind from little-endian bytes. */
    public static byte[] encode(Kind kind, int[] shape, byte[] littleEndianData) {
        if (count(shape) * kind.size() != littleEndianData.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + kind.descr() + " needs "
                    + count(shape) * kind.size() + " bytes but " + littleEndianData.length + " were given");
        }
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            dims.append(d).append(", ");
        }
        String tuple = shape.length == 1 ? "(" + shape[0] + ",)"
                : "(" + (shape.length == 0 ? "" : dims.substring(0, dims.length() - 2)) + ")";
        String dict = "{'descr': '" + kind.descr() + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.allocate(10 + h.length + littleEndianData.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) h.length).put(h).put(littleEndianData);
        return out.array();
    }
}
