package io.cleargate.engine.embedded.model;

/**
 * float8_e4m3fn: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits, subnormals when the
 * exponent is 0, no infinities, S.1111.111 is NaN, largest finite value 448.
 *
 * <p>Decoding trick used by the kernels: the 7 magnitude bits shifted left by 20 land in an f32's
 * exponent and mantissa fields, which gives {@code 2^(e - 127) * 1.m} for normal codes and
 * {@code m * 2^-129} for subnormal ones (the f32 is then subnormal too); multiplying by 2^120 turns
 * both into the e4m3 value exactly. The kernels fold the 2^120 into the block scale.
 */
public final class Fp8 {

    /** 2^120: the factor between the shifted f32 and the e4m3 value. */
    public static final float RESCALE = 0x1p120f;

    private static final float[] VALUES = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            VALUES[b] = (b & 0x7F) == 0x7F ? Float.NaN : shifted((byte) b) * RESCALE;
        }
    }

    private Fp8() {}

    /** The value of an e4m3fn code. */
    public static float decode(byte code) {
        return VALUES[code & 0xFF];
    }

    /** The code as an f32 2^120 times too small (see the class comment); exact, subnormals included. */
    static float shifted(byte code) {
        return Float.intBitsToFloat(((code & 0x7F) << 20) | ((code & 0x80) << 24));
    }
}
