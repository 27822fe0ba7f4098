package io.qat4j.training.run;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {

    @Test
    void logLinesCountEachEpochFromZero() throws InterruptedException {
        Logger logger = (Logger) LoggerFactory.getLogger(Progress.class);
        ListAppender<ILoggingEvent> app = new ListAppender<>();
        app.start();
        logger.addAppender(app);
        try (Progress p = new Progress.Lines(2)) {
            for (int epoch = 1; epoch <= 2; epoch++) {
                p.startEpoch(epoch, 2, 4, 256);
                for (int i = 0; i < 4; i++) {
                    Thread.sleep(25); // a training step
                    p.step(64, 1.0 / (i + 1));
                }
                p.endEpoch();
            }
        } finally {
            logger.detachAppender(app);
        }
        List<String> lines = app.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(4, lines.size(), lines.toString());
        assertTrue(lines.get(3).startsWith("epoch 2/2  iter 4/4  loss 0.5208"), lines.get(3));
        // each epoch's rate counts only its own 256 images in about 100 ms (at most ~2,560 img/s)
        for (int i : new int[]{1, 3}) {
            double rate = Double.parseDouble(lines.get(i).replaceAll(".*loss [0-9.]+  ([0-9]+) img/s.*", "$1"));
            assertTrue(rate > 0 && rate <= 2600, lines.get(i));
        }
    }
}
