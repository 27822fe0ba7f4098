package io.qat4j.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunFilesTest {
    private static final EpochMetrics ROW1 = new EpochMetrics(1, 1e-3, 0.5, 0.9, 0.45, 0.91, 0.44, 0.92, 400, 100, 110);
    private static final EpochMetrics ROW2 = new EpochMetrics(2, 7e-4, 0.2, 0.95, Double.NaN, Double.NaN, 0.3, 0.97, 410, 98, 105);

    @Test
    void runStateRoundTripsIncludingNaN(@TempDir Path dir) {
        RunState s = new RunState();
        s.epochsCompleted = 2;
        s.checkpointModel = RunDirectory.checkpointName(2);
        s.bestEpoch = 1;
        s.bestValidationAccuracy = 0.91;
        s.epochsWithoutImprovement = 1;
        s.trainSeconds = 198;
        s.trainImages = 110_000;
        s.wallSeconds = 215;
        s.rows.addAll(List.of(ROW1, ROW2));
        s.save(dir.resolve("checkpoint.json"));
        RunState back = RunState.load(dir.resolve("checkpoint.json"));
        assertEquals("checkpoints/epoch-0002.zip", back.checkpointModel);
        assertEquals(List.of(ROW1, ROW2).toString(), back.rows.toString());
        assertEquals(110_000, back.trainImages);
        assertEquals(0.91, back.bestValidationAccuracy);
        assertEquals(1, back.epochsWithoutImprovement);
    }

    @Test
    void metricsFilesHoldOneRowPerEpoch(@TempDir Path root) throws IOException {
        RunDirectory dir = new RunDirectory(root);
        MetricsFiles.write(dir, "demo", List.of(ROW1, ROW2));
        List<String> csv = Files.readAllLines(dir.metricsCsv());
        assertEquals(String.join(",", EpochMetrics.COLUMNS), csv.get(0));
        assertEquals("1,0.00100000,0.500000,0.900000,0.450000,0.910000,0.440000,0.920000,400.000,100.000,110.000", csv.get(1));
        assertTrue(csv.get(2).startsWith("2,0.000700000,0.200000,0.950000,,,0.300000,0.970000,"), csv.get(2));
        JsonNode json = new ObjectMapper().readTree(dir.metricsJson().toFile());
        assertEquals(2, json.get("epochs").size());
        assertEquals(0.97, json.get("epochs").get(1).get("test_accuracy").asDouble());
        assertTrue(json.get("epochs").get(1).get("validation_accuracy").isNull());
        BufferedImage png = ImageIO.read(dir.plot().toFile());
        assertEquals(1280, png.getWidth());
        assertEquals(420, png.getHeight());
    }

    @Test
    void atomicWriteLeavesTheOldFileWhenTheWriterFails(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("state.json");
        AtomicFiles.writeString(f, "old");
        assertThrows(RuntimeException.class, () -> AtomicFiles.write(f, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
        }
        AtomicFiles.writeString(f, "new");
        assertEquals("new", Files.readString(f));
        assertFalse(Files.exists(dir.resolve("state.json.tmp")));
    }
}
