package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;

import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizeCommandTest {

    @Test
    void quantizesAnNpyTensorPerChannel(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("x.npy");
        Nd4j.writeAsNumpy(Nd4j.create(new float[][]{{-1f, -0.26f, 0f, 0.25f}, {0.5f, 0.75f, 1f, 2f}}), in.toFile());
        CliTestSupport.Outcome r = run("quantize", "--spec", "int(bits=4, axis=channel)", "--in", in.toString(),
                "--out", tmp.resolve("y.npy").toString(), "--codes", tmp.resolve("q.npy").toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        // symmetric int4: scale = max|x| / 7.5 per row
        assertEquals((float) (1 / 7.5), (float) json.get("scale").get(0).asDouble());
        assertEquals((float) (2 / 7.5), (float) json.get("scale").get(1).asDouble());
        INDArray codes = Nd4j.createFromNpyFile(tmp.resolve("q.npy").toFile());
        assertEquals(DataType.INT32, codes.dataType());
        // float32: -1 * (1/0.13333334f) = -7.4999996 rounds to -7 (PyTorch computes the same)
        assertArrayEquals(new int[]{-7, -2, 0, 2, 2, 3, 4, 7}, codes.reshape(8).toIntVector());
        INDArray y = Nd4j.createFromNpyFile(tmp.resolve("y.npy").toFile());
        assertEquals(codes.castTo(DataType.FLOAT).getRow(1).mul((float) (2 / 7.5)), y.getRow(1));
    }

    @Test
    void badSpecIsAUserError(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("x.npy");
        Nd4j.writeAsNumpy(Nd4j.create(new float[]{1f, 2f}), in.toFile());
        CliTestSupport.Outcome r = run("quantize", "--spec", "int(bitz=4)", "--in", in.toString(), "--out",
                tmp.resolve("y.npy").toString());
        assertEquals(QatCli.USER_ERROR, r.exitCode());
        assertTrue(r.err().contains("bitz") && !r.err().contains("\tat "), r.err());
    }
}
