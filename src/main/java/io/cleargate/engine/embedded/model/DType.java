package io.cleargate.engine.embedded.model;

/** Element types a checkpoint tensor may use; all are little-endian in safetensors. */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public static DType ofSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> throw new IllegalArgumentException("unsupported tensor dtype " + name + " (f32, f16 and bf16 are)");
        };
    }
}
