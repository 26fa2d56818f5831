package dev.attn4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The protobuf wire format: every wire type, packed and unpacked repeats, skipping, and malformed input. */
class ProtoReaderTest {

    @Test
    void readsVarintsOfEveryLength() {
        long[] values = {0, 1, 127, 128, 300, 16_383, 16_384, Integer.MAX_VALUE, 0xFFFF_FFFFL, Long.MAX_VALUE, -1L, Long.MIN_VALUE};
        ProtoWriter w = new ProtoWriter();
        for (long v : values) {
            w.varint(1, v);
        }
        ProtoReader r = new ProtoReader(w.toByteArray());
        for (long v : values) {
            assertTrue(r.next());
            assertEquals(1, r.field());
            assertEquals(ProtoReader.VARINT, r.wireType());
            assertEquals(v, r.readVarint());
        }
        assertFalse(r.next());
    }

    @Test
    void knownBytesDecode() {
        // field 1 varint 150 is the protobuf documentation's example: 08 96 01
        ProtoReader r = new ProtoReader(new byte[] {0x08, (byte) 0x96, 0x01});
        assertTrue(r.next());
        assertEquals(1, r.field());
        assertEquals(150, r.readVarint());
        // field 2 string "testing": 12 07 74 65 73 74 69 6e 67
        r = new ProtoReader(new byte[] {0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67});
        assertTrue(r.next());
        assertEquals(2, r.field());
        assertEquals(ProtoReader.LENGTH_DELIMITED, r.wireType());
        assertEquals("testing", r.readString());
    }

    @Test
    void readsFixedWidthAndNestedFields() {
        ProtoWriter inner = new ProtoWriter().string(1, "ñame ✓").varint(2, 7);
        byte[] bytes = new ProtoWriter()
                .fixed32(3, Float.floatToIntBits(1.5f))
                .fixed64(4, Double.doubleToLongBits(-2.25))
                .message(5, inner)
                .varint(6, 9)
                .toByteArray();
        ProtoReader r = new ProtoReader(bytes);
        assertTrue(r.next());
        assertEquals(1.5f, Float.intBitsToFloat(r.readFixed32()));
        assertTrue(r.next());
        assertEquals(-2.25, Double.longBitsToDouble(r.readFixed64()));
        assertTrue(r.next());
        assertEquals(5, r.field());
        ProtoReader m = r.readMessage();
        assertTrue(m.next());
        assertEquals("ñame ✓", m.readString());
        assertTrue(m.next());
        assertEquals(7, m.readVarint());
        assertFalse(m.next());
        assertTrue(r.next());
        assertEquals(6, r.field());
        assertEquals(9, r.readVarint());
        assertFalse(r.next());
    }

    @Test
    void repeatedVarintsArePackedOrNot() {
        byte[] bytes = new ProtoWriter().packedVarints(1, 1, 300, -1).varint(1, 4).varint(1, 5).toByteArray();
        ProtoReader r = new ProtoReader(bytes);
        ProtoReader.LongList list = new ProtoReader.LongList();
        while (r.next()) {
            r.readVarints(list);
        }
        assertArrayEquals(new long[] {1, 300, -1, 4, 5}, list.toArray());
    }

    @Test
    void skipsUnknownFieldsOfEveryWireType() {
        byte[] bytes = new ProtoWriter().varint(10, 1L << 40).fixed32(11, 1).fixed64(12, 2).string(13, "skip me")
                .varint(1, 42).toByteArray();
        ProtoReader r = new ProtoReader(bytes);
        long found = -1;
        while (r.next()) {
            if (r.field() == 1) {
                found = r.readVarint();
            } else {
                r.skip();
            }
        }
        assertEquals(42, found);
    }

    @Test
    void readsFromTheBufferPositionWithoutMovingIt() {
        byte[] bytes = new ProtoWriter().varint(1, 5).varint(2, 6).toByteArray();
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        buf.position(2); // the second field
        ProtoReader r = new ProtoReader(buf);
        assertTrue(r.next());
        assertEquals(2, r.field());
        assertEquals(6, r.readVarint());
        assertEquals(2, buf.position());
    }

    @Test
    void malformedInputFailsWithItsPosition() {
        // truncated varint
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> skipAll(new ProtoReader(new byte[] {0x08, (byte) 0x80})));
        assertTrue(e.getMessage().contains("truncated varint"), e.getMessage());
        // length past the end
        e = assertThrows(IllegalArgumentException.class, () -> skipAll(new ProtoReader(new byte[] {0x12, 0x05, 0x61})));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        // truncated fixed32
        e = assertThrows(IllegalArgumentException.class, () -> skipAll(new ProtoReader(new byte[] {0x0d, 0x01, 0x02})));
        assertTrue(e.getMessage().contains("truncated fixed32"), e.getMessage());
        // field number 0
        e = assertThrows(IllegalArgumentException.class, () -> skipAll(new ProtoReader(new byte[] {0x00, 0x01})));
        assertTrue(e.getMessage().contains("invalid tag"), e.getMessage());
        // group wire type 3
        e = assertThrows(IllegalArgumentException.class, () -> skipAll(new ProtoReader(new byte[] {0x0b})));
        assertTrue(e.getMessage().contains("wire type 3"), e.getMessage());
        // an 11-byte varint
        byte[] tooLong = new byte[12];
        tooLong[0] = 0x08;
        java.util.Arrays.fill(tooLong, 1, 12, (byte) 0x80);
        e = assertThrows(IllegalArgumentException.class, () -> skipAll(new ProtoReader(tooLong)));
        assertTrue(e.getMessage().contains("longer than 10 bytes"), e.getMessage());
    }

    private static void skipAll(ProtoReader r) {
        while (r.next()) {
            r.skip();
        }
    }
}
