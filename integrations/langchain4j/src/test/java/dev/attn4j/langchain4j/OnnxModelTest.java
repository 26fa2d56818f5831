package dev.attn4j.langchain4j;

import static dev.attn4j.langchain4j.ProtoWriter.floatTensor;
import static dev.attn4j.langchain4j.ProtoWriter.longTensor;
import static dev.attn4j.langchain4j.ProtoWriter.node;
import static dev.attn4j.langchain4j.ProtoWriter.valueInfo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link OnnxModel} on small models written by hand with {@link ProtoWriter}. */
class OnnxModelTest {

    private static OnnxModel parse(ProtoWriter model) {
        return OnnxModel.parse(ByteBuffer.wrap(model.toByteArray()));
    }

    private static ProtoWriter model(ProtoWriter graph) {
        return new ProtoWriter().varint(1, 8).string(2, "test").message(7, graph)
                .message(8, new ProtoWriter().string(1, "").varint(2, 11))
                .message(8, new ProtoWriter().string(1, "com.microsoft").varint(2, 1));
    }

    @Test
    void readsOpsetsNodesAttributesInitializersAndNames() {
        ProtoWriter attrInt = new ProtoWriter().string(1, "axis").varint(3, -1).varint(20, 2);
        ProtoWriter attrFloat = new ProtoWriter().string(1, "epsilon").fixed32(2, Float.floatToIntBits(1e-12f)).varint(20, 1);
        ProtoWriter attrInts = new ProtoWriter().string(1, "perm").packedVarints(8, 0, 2, 1, 3).varint(20, 7);
        ProtoWriter attrTensor = new ProtoWriter().string(1, "value").message(5, longTensor("", new long[] {1}, 12)).varint(20, 4);
        ProtoWriter attrString = new ProtoWriter().string(1, "approximate").string(4, "none").varint(20, 3);
        ProtoWriter attrFloats = new ProtoWriter().string(1, "scales").packedFloats(7, 0.5f, 2f).varint(20, 6);
        ProtoWriter graph = new ProtoWriter()
                .message(1, node("MatMul", new String[] {"x", "w"}, new String[] {"xw"}, attrInt, attrFloat))
                .message(1, node("Transpose", new String[] {"xw"}, new String[] {"t"}, attrInts, attrString, attrFloats))
                .message(1, node("Constant", new String[0], new String[] {"c"}, attrTensor))
                .string(2, "g")
                .message(5, floatTensor("w", new long[] {2, 3}, 1, 2, 3, 4, 5, 6))
                .message(5, longTensor("ids", new long[] {4}, 0, 1, 2, 511))
                .message(11, valueInfo("x"))
                .message(11, valueInfo("mask"))
                .message(12, valueInfo("t"))
                .string(99, "an unknown field is skipped");
        OnnxModel m = parse(model(graph));

        assertEquals(8, m.irVersion());
        assertEquals(11, m.defaultOpset());
        assertEquals(1L, m.opsets().get("com.microsoft"));
        OnnxModel.Graph g = m.graph();
        assertEquals("g", g.name());
        assertEquals(List.of("x", "mask"), g.inputs());
        assertEquals(List.of("t"), g.outputs());
        assertEquals(3, g.nodes().size());

        OnnxModel.Node mm = g.nodes().get(0);
        assertEquals("MatMul", mm.opType());
        assertEquals("MatMul_node", mm.name());
        assertEquals(List.of("x", "w"), mm.inputs());
        assertEquals(List.of("xw"), mm.outputs());
        assertEquals(-1, mm.attribute("axis").i());
        assertEquals(2, mm.attribute("axis").type());
        assertEquals(1e-12f, mm.attribute("epsilon").f());

        OnnxModel.Node tr = g.nodes().get(1);
        assertArrayEquals(new long[] {0, 2, 1, 3}, tr.attribute("perm").ints());
        assertEquals("none", tr.attribute("approximate").s());
        assertArrayEquals(new float[] {0.5f, 2f}, tr.attribute("scales").floats());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tr.attribute("missing"));
        assertTrue(e.getMessage().contains("has no attribute 'missing'"), e.getMessage());

        OnnxModel.TensorData c = g.nodes().get(2).attribute("value").t();
        assertArrayEquals(new long[] {12}, c.longValues());

        OnnxModel.TensorData w = g.initializers().get("w");
        assertArrayEquals(new long[] {2, 3}, w.dims());
        assertArrayEquals(new int[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.floatValues());
        assertNull(w.longs());
        assertThrows(IllegalArgumentException.class, w::longValues);
        assertArrayEquals(new long[] {0, 1, 2, 511}, g.initializers().get("ids").longValues());
    }

    @Test
    void decodesEveryStorageOfTensorValues() {
        // float_data, packed and unpacked
        ProtoWriter packed = new ProtoWriter().packedVarints(1, 3).varint(2, OnnxModel.FLOAT).string(8, "p").packedFloats(4, 1f, -2f, 3.5f);
        assertArrayEquals(new float[] {1f, -2f, 3.5f}, tensor(packed).floatValues());
        ProtoWriter unpacked = new ProtoWriter().varint(1, 2).varint(2, OnnxModel.FLOAT).string(8, "u")
                .fixed32(4, Float.floatToIntBits(7f)).fixed32(4, Float.floatToIntBits(8f));
        assertArrayEquals(new float[] {7f, 8f}, tensor(unpacked).floatValues());
        // raw DOUBLE, INT32 and INT64
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-1e3);
        ProtoWriter doubles = new ProtoWriter().varint(1, 2).varint(2, OnnxModel.DOUBLE).string(8, "d").bytes(9, d.array());
        assertArrayEquals(new float[] {0.25f, -1000f}, tensor(doubles).floatValues());
        ByteBuffer i32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-5).putInt(7);
        ProtoWriter ints = new ProtoWriter().varint(1, 2).varint(2, OnnxModel.INT32).string(8, "i").bytes(9, i32.array());
        assertArrayEquals(new long[] {-5, 7}, tensor(ints).longValues());
        ByteBuffer i64 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        ProtoWriter longs = new ProtoWriter().varint(1, 1).varint(2, OnnxModel.INT64).string(8, "l").bytes(9, i64.array());
        assertArrayEquals(new long[] {1L << 40}, tensor(longs).longValues());
        // int32_data (field 5) holds INT32 values as varints, negative ones sign-extended
        ProtoWriter int32Data = new ProtoWriter().varint(1, 2).varint(2, OnnxModel.INT32).string(8, "v").packedVarints(5, -3, 4);
        assertArrayEquals(new long[] {-3, 4}, tensor(int32Data).longValues());
        // a scalar (no dims) has one element
        ProtoWriter scalar = new ProtoWriter().varint(2, OnnxModel.FLOAT).string(8, "s").packedFloats(4, 2f);
        assertEquals(1, tensor(scalar).elementCount());
    }

    @Test
    void badTensorsFailWithTheirName() {
        ProtoWriter shortRaw = new ProtoWriter().packedVarints(1, 4).varint(2, OnnxModel.FLOAT).string(8, "weights").bytes(9, new byte[12]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tensor(shortRaw));
        assertTrue(e.getMessage().contains("'weights' has 12 bytes of raw_data but its shape needs 16"), e.getMessage());

        ProtoWriter fewFloats = new ProtoWriter().packedVarints(1, 3).varint(2, OnnxModel.FLOAT).string(8, "b").packedFloats(4, 1f);
        e = assertThrows(IllegalArgumentException.class, () -> tensor(fewFloats));
        assertTrue(e.getMessage().contains("'b' has 1 values but its shape needs 3"), e.getMessage());

        ProtoWriter external = new ProtoWriter().packedVarints(1, 3).varint(2, OnnxModel.FLOAT).string(8, "big").varint(14, 1);
        e = assertThrows(IllegalArgumentException.class, () -> tensor(external));
        assertTrue(e.getMessage().contains("'big' keeps its data in an external file"), e.getMessage());

        ProtoWriter fp16 = new ProtoWriter().packedVarints(1, 1).varint(2, 10).string(8, "half").bytes(9, new byte[2]);
        e = assertThrows(IllegalArgumentException.class, () -> tensor(fp16).floatValues());
        assertTrue(e.getMessage().contains("'half' has data type 10"), e.getMessage());
    }

    @Test
    void aModelWithoutAGraphIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse(new ProtoWriter().varint(1, 8)));
        assertTrue(e.getMessage().contains("has no graph"), e.getMessage());
        ProtoWriter sparse = new ProtoWriter().message(15, new ProtoWriter());
        e = assertThrows(IllegalArgumentException.class, () -> parse(model(sparse)));
        assertTrue(e.getMessage().contains("sparse initializers"), e.getMessage());
    }

    private static OnnxModel.TensorData tensor(ProtoWriter t) {
        return OnnxModel.parseTensor(new ProtoReader(t.toByteArray()));
    }
}
