package io.cleargate.engine.embedded.model;

import java.util.Optional;

/**
 * Element types a checkpoint tensor may use; all are little-endian in safetensors. F8_E4M3 is
 * float8_e4m3fn, the type of DeepSeek-V3's released linear weights: it is only read together with
 * a block scale (see {@link BlockScale}), never on its own.
 */
public enum DType {
    F32(4), F16(2), BF16(2), F8_E4M3(1),
    /** Signed 8-bit integers: the engine's optional weight-only quantization, made at load, never read from files. */
    I8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** One-byte codes that mean nothing without the block scales beside them. */
    public boolean blockScaled() {
        return this == F8_E4M3 || this == I8;
    }

    /** The dtypes the engine reads, as safetensors names them. */
    public static final String SUPPORTED = "F32, F16, BF16, F8_E4M3";

    /** The dtype of a safetensors name, or empty for one the engine cannot read (I64, F8_E5M2, ...). */
    public static Optional<DType> ofSafetensors(String name) {
        return switch (name) {
            case "F32" -> Optional.of(F32);
            case "F16" -> Optional.of(F16);
            case "BF16" -> Optional.of(BF16);
            case "F8_E4M3" -> Optional.of(F8_E4M3);
            default -> Optional.empty();
        };
    }
}
