package dev.attn4j.bench;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Builds tiny ONNX models in code with a minimal protobuf writer (only the ModelProto, GraphProto,
 * NodeProto, AttributeProto and ValueInfoProto fields a one-node graph needs), so the benchmarks need
 * no model files and no protobuf dependency.
 */
public final class OnnxModels {
    private OnnxModels() {
    }

    /** A protobuf message under construction. */
    static final class Msg {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Msg int64(int field, long v) {
            varint((long) field << 3);
            varint(v);
            return this;
        }

        Msg float32(int field, float v) {
            varint((long) field << 3 | 5);
            int bits = Float.floatToIntBits(v);
            for (int i = 0; i < 4; i++) {
                out.write(bits >>> (8 * i) & 0xFF);
            }
            return this;
        }

        Msg bytes(int field, byte[] b) {
            varint((long) field << 3 | 2);
            varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Msg string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Msg msg(int field, Msg m) {
            return bytes(field, m.toBytes());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }

    /** ValueInfoProto of a float tensor with fixed dims. */
    static Msg floatTensor(String name, long... dims) {
        Msg shape = new Msg();
        for (long d : dims) {
            shape.msg(1, new Msg().int64(1, d)); // TensorShapeProto.dim { dim_value }
        }
        Msg tensorType = new Msg().int64(1, 1).msg(2, shape); // elem_type FLOAT, shape
        return new Msg().string(1, name).msg(2, new Msg().msg(1, tensorType)); // name, type { tensor_type }
    }

    /** AttributeProto of type INT. */
    static Msg intAttribute(String name, long value) {
        return new Msg().string(1, name).int64(3, value).int64(20, 2);
    }

    /** AttributeProto of type FLOAT. */
    static Msg floatAttribute(String name, float value) {
        return new Msg().string(1, name).float32(2, value).int64(20, 1);
    }

    /**
     * A model with one ONNX {@code Attention} node (opset 23) on 4-D inputs Q [B, H, S, D], K and V
     * [B, KVH, S, D] and output Y [B, H, S, D], with {@code is_causal} and the given scale.
     */
    public static byte[] attention(int batch, int heads, int kvHeads, int seqQ, int seqK, int headDim, boolean causal,
                                   float scale) {
        Msg node = new Msg().string(1, "Q").string(1, "K").string(1, "V").string(2, "Y").string(3, "attention")
                .string(4, "Attention")
                .msg(5, intAttribute("is_causal", causal ? 1 : 0))
                .msg(5, floatAttribute("scale", scale));
        Msg graph = new Msg().msg(1, node).string(2, "attention")
                .msg(11, floatTensor("Q", batch, heads, seqQ, headDim))
                .msg(11, floatTensor("K", batch, kvHeads, seqK, headDim))
                .msg(11, floatTensor("V", batch, kvHeads, seqK, headDim))
                .msg(12, floatTensor("Y", batch, heads, seqQ, headDim));
        return new Msg().int64(1, 10).string(2, "attn4j-bench").msg(7, graph)
                .msg(8, new Msg().string(1, "").int64(2, 23)).toBytes();
    }
}
