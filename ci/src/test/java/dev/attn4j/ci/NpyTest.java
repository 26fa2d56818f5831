package dev.attn4j.ci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .npy reader: every dtype the cases use, scalars, both header versions, and clear errors. */
class NpyTest {

    /** A v1.0 file written the way NumPy writes it: the dict, space padding to 64 bytes, a newline. */
    private static byte[] npy(String descr, String shapeTuple, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeTuple + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length & 0xFF);
        out.write(header.length >>> 8);
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void float32() throws IOException {
        ByteBuffer b = le(24);
        for (int i = 0; i < 6; i++) {
            b.putFloat(i * 0.5f - 1f);
        }
        Npy.Array a = Npy.parse(npy("<f4", "(2, 3)", b.array()), "f4");
        assertEquals(Npy.Kind.FLOAT32, a.kind());
        assertArrayEquals(new int[] {2, 3}, a.shape());
        assertArrayEquals(new float[] {-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}, a.toFloats());
    }

    @Test
    void float16IsWidened() throws IOException {
        ByteBuffer b = le(8);
        b.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-0.0009765625f))
                .putShort((short) 0x7C00).putShort((short) 0xFC00); // +inf, -inf
        Npy.Array a = Npy.parse(npy("<f2", "(4,)", b.array()), "f2");
        assertEquals(Npy.Kind.FLOAT16, a.kind());
        assertArrayEquals(new float[] {1.5f, -0.0009765625f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}, a.toFloats());
    }

    @Test
    void int64AndInt32() throws IOException {
        ByteBuffer b = le(24);
        b.putLong(120).putLong(-23).putLong(1L << 40);
        Npy.Array a = Npy.parse(npy("<i8", "(3,)", b.array()), "i8");
        assertEquals(Npy.Kind.INT64, a.kind());
        assertArrayEquals(new long[] {120, -23, 1L << 40}, a.toLongs());

        ByteBuffer c = le(8);
        c.putInt(7).putInt(-1);
        Npy.Array i4 = Npy.parse(npy("<i4", "(1, 2)", c.array()), "i4");
        assertEquals(Npy.Kind.INT32, i4.kind());
        assertArrayEquals(new long[] {7, -1}, i4.toLongs());
        assertArrayEquals(new float[] {7f, -1f}, i4.toFloats());
    }

    @Test
    void boolAndUint8() throws IOException {
        Npy.Array b1 = Npy.parse(npy("|b1", "(2, 2)", new byte[] {1, 0, 0, 1}), "b1");
        assertEquals(Npy.Kind.BOOL, b1.kind());
        assertArrayEquals(new byte[] {1, 0, 0, 1}, b1.toBooleanBytes());
        assertArrayEquals(new float[] {1f, 0f, 0f, 1f}, b1.toFloats());

        Npy.Array u1 = Npy.parse(npy("|u1", "(3,)", new byte[] {0, 7, (byte) 255}), "u1");
        assertEquals(Npy.Kind.UINT8, u1.kind());
        assertArrayEquals(new long[] {0, 7, 255}, u1.toLongs());
        assertArrayEquals(new byte[] {0, 1, 1}, u1.toBooleanBytes());
    }

    @Test
    void scalarHasOneElement() throws IOException {
        ByteBuffer b = le(4);
        b.putFloat(3.25f);
        Npy.Array a = Npy.parse(npy("<f4", "()", b.array()), "scalar");
        assertEquals(0, a.shape().length);
        assertEquals(1, a.size());
        assertArrayEquals(new float[] {3.25f}, a.toFloats());
    }

    @Test
    void emptyArray() throws IOException {
        Npy.Array a = Npy.parse(npy("<f4", "(0, 3)", new byte[0]), "empty");
        assertArrayEquals(new int[] {0, 3}, a.shape());
        assertEquals(0, a.size());
    }

    @Test
    void version2Header() throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        byte[] header = (dict + " ".repeat((64 - (12 + dict.length() + 1) % 64) % 64) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = le(12 + header.length + 8);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(header.length).put(header).putFloat(1f).putFloat(2f);
        Npy.Array a = Npy.parse(b.array(), "v2");
        assertArrayEquals(new float[] {1f, 2f}, a.toFloats());
    }

    @Test
    void writerRoundTripsThroughAFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.npy");
        Npy.writeFloat32(f, new float[] {1f, Float.NEGATIVE_INFINITY, 3f, 4f, 5f, 6f}, 3, 2);
        Npy.Array a = Npy.read(f);
        assertArrayEquals(new int[] {3, 2}, a.shape());
        assertArrayEquals(new float[] {1f, Float.NEGATIVE_INFINITY, 3f, 4f, 5f, 6f}, a.toFloats());
        assertEquals(0, (Files.size(f) - 6 * 4) % 64, "like NumPy, the header pads the data start to 64 bytes");

        Npy.writeInt64(f, new long[] {5}, new int[0]);
        assertArrayEquals(new long[] {5}, Npy.read(f).toLongs());
        Npy.writeBool(f, new boolean[] {true, false}, 2);
        assertArrayEquals(new byte[] {1, 0}, Npy.read(f).toBooleanBytes());
    }

    @Test
    void readsARealConformanceFileWhenPresent() throws IOException {
        Path onnx = ConformanceData.onnxFolder();
        if (onnx == null) {
            return; // covered by the hand-built files above; the end-to-end test reports the missing folder
        }
        Npy.Array q = Npy.read(onnx.resolve("test_attention_4d/input_0.npy"));
        assertArrayEquals(new int[] {2, 3, 4, 8}, q.shape());
        assertEquals(2 * 3 * 4 * 8, q.toFloats().length);
    }

    // ---------------------------------------------------------------- malformed files

    private static String error(byte[] bytes) {
        return assertThrows(Npy.NpyFormatException.class, () -> Npy.parse(bytes, "bad.npy")).getMessage();
    }

    @Test
    void badMagic() {
        byte[] b = npy("<f4", "(1,)", new byte[4]);
        b[1] = 'X';
        String m = error(b);
        assertTrue(m.startsWith("bad.npy: not a .npy file"), m);
    }

    @Test
    void tooShort() {
        assertTrue(error(new byte[] {(byte) 0x93, 'N'}).contains("only 2 bytes"));
    }

    @Test
    void missingDescr() {
        String dict = "{'fortran_order': False, 'shape': (1,), }";
        byte[] b = npy("<f4", "(1,)", new byte[4]);
        byte[] h = dict.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer bb = le(10 + h.length + 1 + 4);
        bb.put(b, 0, 8).putShort((short) (h.length + 1)).put(h).put((byte) '\n').putFloat(0f);
        String m = error(bb.array());
        assertTrue(m.contains("no 'descr'"), m);
    }

    @Test
    void headerThatIsNotADict() {
        byte[] h = "shape=(1,)\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer bb = le(10 + h.length + 4);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length).put(h).putFloat(0f);
        String m = error(bb.array());
        assertTrue(m.contains("malformed header, expected a dict literal"), m);
    }

    @Test
    void unsupportedDtype() {
        String m = error(npy("<c8", "(1,)", new byte[8]));
        assertTrue(m.contains("unsupported dtype '<c8'"), m);
    }

    @Test
    void bigEndianIsRejected() {
        String m = error(npy(">f4", "(1,)", new byte[4]));
        assertTrue(m.contains("unsupported dtype '>f4'"), m);
    }

    @Test
    void fortranOrderIsRejected() {
        String dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }";
        byte[] h = (dict + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer bb = le(10 + h.length + 16);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length).put(h);
        String m = error(bb.array());
        assertTrue(m.contains("fortran_order True is not supported"), m);
    }

    @Test
    void malformedShape() {
        String m = error(npy("<f4", "(2, x)", new byte[8]));
        assertTrue(m.contains("malformed shape"), m);
    }

    @Test
    void truncatedData() {
        String m = error(npy("<f4", "(2, 3)", new byte[20]));
        assertTrue(m.contains("truncated data: shape [2, 3] of <f4 needs 24 bytes but the file holds 20"), m);
    }

    @Test
    void trailingBytes() {
        String m = error(npy("<f4", "(1,)", new byte[6]));
        assertTrue(m.contains("2 unexpected trailing bytes"), m);
    }

    @Test
    void headerLongerThanFile() {
        byte[] b = npy("<f4", "(1,)", new byte[4]);
        b[8] = (byte) 0xFF;
        b[9] = (byte) 0x7F;
        String m = error(b);
        assertTrue(m.contains("the header claims 32767 bytes"), m);
    }

    @Test
    void unsupportedVersion() {
        byte[] b = npy("<f4", "(1,)", new byte[4]);
        b[6] = 9;
        String m = error(b);
        assertTrue(m.contains("unsupported .npy version 9.0"), m);
    }
}
