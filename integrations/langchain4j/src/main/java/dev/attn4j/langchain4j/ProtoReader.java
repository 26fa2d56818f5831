package dev.attn4j.langchain4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A forward-only reader of the protobuf wire format over one message's bytes: tags, varints,
 * fixed-width numbers and length-delimited fields (strings, bytes, nested messages, packed arrays).
 *
 * <pre>
 *   message  := field*
 *   field    := tag value;  tag = varint(fieldNumber << 3 | wireType)
 *   wireType := 0 varint | 1 fixed64 | 2 length-delimited (varint length, then bytes) | 5 fixed32
 * </pre>
 *
 * Groups (wire types 3 and 4) are deprecated and absent from ONNX files; they are rejected.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final ByteBuffer buf;
    private int tag;

    /** A reader of the bytes between {@code buf}'s position and limit (the buffer is not modified). */
    ProtoReader(ByteBuffer buf) {
        this.buf = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A reader of a whole array. */
    ProtoReader(byte[] bytes) {
        this(ByteBuffer.wrap(bytes));
    }

    /** Reads the next tag; false at the end of the message. */
    boolean next() {
        if (!buf.hasRemaining()) {
            return false;
        }
        long t = readVarint();
        if (t >>> 3 == 0 || t > 0xFFFF_FFFFL) {
            throw malformed("invalid tag " + t);
        }
        tag = (int) t;
        return true;
    }

    /** The field number of the current tag. */
    int field() {
        return tag >>> 3;
    }

    /** The wire type of the current tag. */
    int wireType() {
        return tag & 7;
    }

    /** A varint (wire type 0), up to 64 bits. */
    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!buf.hasRemaining()) {
                throw malformed("truncated varint");
            }
            byte b = buf.get();
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw malformed("varint longer than 10 bytes");
    }

    /** A little-endian 32-bit value (wire type 5). */
    int readFixed32() {
        need(4);
        return buf.getInt();
    }

    /** A little-endian 64-bit value (wire type 1). */
    long readFixed64() {
        need(8);
        return buf.getLong();
    }

    /** The bytes of a length-delimited field (wire type 2) as a little-endian view, without copying. */
    ByteBuffer readBytes() {
        long len = readVarint();
        if (len < 0 || len > buf.remaining()) {
            throw malformed("length " + len + " exceeds the " + buf.remaining() + " bytes left");
        }
        ByteBuffer view = buf.slice(buf.position(), (int) len).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + (int) len);
        return view;
    }

    /** A length-delimited field decoded as UTF-8. */
    String readString() {
        ByteBuffer b = readBytes();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A nested message. */
    ProtoReader readMessage() {
        return new ProtoReader(readBytes());
    }

    /** Skips the value of the current field. */
    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> readFixed64();
            case LENGTH_DELIMITED -> readBytes();
            case FIXED32 -> readFixed32();
            default -> throw malformed("unsupported wire type " + wireType() + " of field " + field());
        }
    }

    /**
     * The values of a repeated varint field, packed (wire type 2) or not (wire type 0): appended to
     * {@code into}, which is returned (grown as needed).
     */
    LongList readVarints(LongList into) {
        if (wireType() == LENGTH_DELIMITED) {
            ProtoReader packed = new ProtoReader(readBytes());
            while (packed.buf.hasRemaining()) {
                into.add(packed.readVarint());
            }
        } else {
            expect(VARINT);
            into.add(readVarint());
        }
        return into;
    }

    /** Fails unless the current field has wire type {@code expected}. */
    void expect(int expected) {
        if (wireType() != expected) {
            throw malformed("field " + field() + " has wire type " + wireType() + " but " + expected + " was expected");
        }
    }

    private void need(int n) {
        if (buf.remaining() < n) {
            throw malformed("truncated fixed" + n * 8 + " value");
        }
    }

    private IllegalArgumentException malformed(String what) {
        return new IllegalArgumentException("malformed protobuf at byte " + buf.position() + ": " + what);
    }

    /** A growable list of longs. */
    static final class LongList {
        private long[] values = new long[8];
        private int size;

        void add(long v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int size() {
            return size;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
