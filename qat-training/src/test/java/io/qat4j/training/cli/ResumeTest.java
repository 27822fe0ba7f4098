package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a real training process (SIGKILL) in the middle of its second epoch, resumes it, and checks
 * that the resumed run ends with the same metrics as an uninterrupted one.
 */
class ResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Columns that depend on the machine's speed, not on the training. */
    private static final List<String> TIMING = List.of("images_per_second", "train_seconds", "epoch_seconds");

    @Test
    void killedRunResumesToTheSameMetricsAsAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path killed = tmp.resolve("killed");
        Path whole = tmp.resolve("whole");

        // 1. Start a run in a separate JVM and kill it once epoch 1 is checkpointed and epoch 2 has begun.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dqat.home=" + REPO, QatCli.class.getName()));
        cmd.addAll(TrainCommandTest.smallRun(killed));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("killed.log").toFile()).start();
        Path state = killed.resolve("checkpoint.json");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!(Files.exists(state) && JSON.readTree(state.toFile()).get("epochs_completed").asInt() >= 1)) {
            assertTrue(p.isAlive(), "training process ended early: " + Files.readString(tmp.resolve("killed.log")));
            assertTrue(System.nanoTime() < deadline, "no checkpoint within 5 minutes");
            Thread.sleep(20);
        }
        Thread.sleep(700); // into epoch 2
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertFalse(Files.exists(killed.resolve("summary.json")), "the run must have been killed before it finished");
        int done = JSON.readTree(state.toFile()).get("epochs_completed").asInt();
        assertTrue(done < 3, "killed after " + done + " epochs");

        // 2. Resume it in this JVM; 3. run the same experiment without interruption.
        CliTestSupport.Outcome resumed = run(TrainCommandTest.smallRun(killed, "--resume").toArray(String[]::new));
        assertEquals(0, resumed.exitCode(), resumed.err());
        CliTestSupport.Outcome uninterrupted = run(TrainCommandTest.smallRun(whole).toArray(String[]::new));
        assertEquals(0, uninterrupted.exitCode(), uninterrupted.err());

        JsonNode a = JSON.readTree(killed.resolve("metrics.json").toFile()).get("epochs");
        JsonNode b = JSON.readTree(whole.resolve("metrics.json").toFile()).get("epochs");
        assertEquals(3, a.size());
        assertEquals(3, b.size());
        for (int i = 0; i < 3; i++) {
            var names = b.get(i).fieldNames();
            while (names.hasNext()) {
                String col = names.next();
                if (!TIMING.contains(col)) {
                    assertEquals(b.get(i).get(col), a.get(i).get(col), "epoch " + (i + 1) + " column " + col);
                }
            }
        }
        JsonNode sa = JSON.readTree(killed.resolve("summary.json").toFile());
        JsonNode sb = JSON.readTree(whole.resolve("summary.json").toFile());
        assertEquals(sb.get("test_accuracy"), sa.get("test_accuracy"));
        assertEquals(sb.get("epochs"), sa.get("epochs"));
        assertEquals(sb.get("best_epoch"), sa.get("best_epoch"));
        assertTrue(Files.readString(killed.resolve("train.log")).contains("resuming"));
    }
}
