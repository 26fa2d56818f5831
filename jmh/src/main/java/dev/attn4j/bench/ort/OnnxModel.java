package dev.attn4j.bench.ort;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A one-node ONNX model written as protobuf bytes, so that ONNX Runtime can run exactly one operator on
 * our inputs without any model file: ModelProto → GraphProto → NodeProto with graph inputs and outputs
 * (field numbers from onnx.proto3). Only what the benchmarks need: float tensors, int and float
 * attributes.
 */
public final class OnnxModel {
    /** TensorProto.DataType FLOAT. */
    public static final int FLOAT = 1;

    private final String opType;
    private final int opset;
    private final List<Value> inputs = new ArrayList<>();
    private final List<Value> outputs = new ArrayList<>();
    private final List<byte[]> attributes = new ArrayList<>();

    private record Value(String name, int elemType, long[] shape) {
    }

    private OnnxModel(String opType, int opset) {
        this.opType = opType;
        this.opset = opset;
    }

    /** A model of one {@code opType} node from the default domain at {@code opset}. */
    public static OnnxModel node(String opType, int opset) {
        return new OnnxModel(opType, opset);
    }

    /** Adds a graph input feeding the node's next input slot ({@code name} "" leaves an optional slot empty). */
    public OnnxModel input(String name, long... shape) {
        inputs.add(new Value(name, FLOAT, shape));
        return this;
    }

    /** Adds a graph output fed by the node's next output slot. */
    public OnnxModel output(String name, long... shape) {
        outputs.add(new Value(name, FLOAT, shape));
        return this;
    }

    /** An INT attribute. */
    public OnnxModel attribute(String name, long value) {
        Proto a = new Proto().string(1, name).varint(3, value).varint(20, 2);
        attributes.add(a.bytes());
        return this;
    }

    /** A FLOAT attribute. */
    public OnnxModel attribute(String name, float value) {
        Proto a = new Proto().string(1, name).fixed32(2, Float.floatToRawIntBits(value)).varint(20, 1);
        attributes.add(a.bytes());
        return this;
    }

    /**
     * A model with one ONNX {@code Attention} node (opset 23) on 4-D inputs Q [B, H, Sq, D], K [B, KVH, Sk, D],
     * V [B, KVH, Sk, Dv] and output Y [B, H, Sq, Dv], with {@code is_causal} (top-left) and the given scale.
     */
    public static byte[] attention(int batch, int heads, int kvHeads, int seqQ, int seqK, int headDim, int valueDim,
                                   boolean causal, float scale) {
        return node("Attention", 23)
                .input("Q", batch, heads, seqQ, headDim)
                .input("K", batch, kvHeads, seqK, headDim)
                .input("V", batch, kvHeads, seqK, valueDim)
                .output("Y", batch, heads, seqQ, valueDim)
                .attribute("is_causal", causal ? 1L : 0L)
                .attribute("scale", scale)
                .bytes();
    }

    /** The serialized ModelProto. */
    public byte[] bytes() {
        Proto node = new Proto();
        for (Value v : inputs) {
            node.string(1, v.name());
        }
        for (Value v : outputs) {
            node.string(2, v.name());
        }
        node.string(3, opType.toLowerCase(java.util.Locale.ROOT)).string(4, opType);
        for (byte[] a : attributes) {
            node.message(5, a);
        }
        Proto graph = new Proto().message(1, node.bytes()).string(2, "attn4j_peer");
        for (Value v : inputs) {
            if (!v.name().isEmpty()) {
                graph.message(11, valueInfo(v));
            }
        }
        for (Value v : outputs) {
            graph.message(12, valueInfo(v));
        }
        Proto opsetId = new Proto().string(1, "").varint(2, opset);
        return new Proto().varint(1, 11).string(2, "attn4j").message(7, graph.bytes()).message(8, opsetId.bytes()).bytes();
    }

    private static byte[] valueInfo(Value v) {
        Proto shape = new Proto();
        for (long d : v.shape()) {
            shape.message(1, new Proto().varint(1, d).bytes());
        }
        Proto tensorType = new Proto().varint(1, v.elemType()).message(2, shape.bytes());
        Proto type = new Proto().message(1, tensorType.bytes());
        return new Proto().string(1, v.name()).message(2, type.bytes()).bytes();
    }

    /** A minimal protobuf writer: varints, fixed32, length-delimited fields. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            tag(field, 0);
            raw(value);
            return this;
        }

        Proto fixed32(int field, int value) {
            tag(field, 5);
            for (int i = 0; i < 4; i++) {
                out.write((value >>> (8 * i)) & 0xFF);
            }
            return this;
        }

        Proto string(int field, String value) {
            return message(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, byte[] value) {
            tag(field, 2);
            raw(value.length);
            out.writeBytes(value);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            raw(((long) field << 3) | wireType);
        }

        private void raw(long value) {
            long v = value;
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
