package io.qat4j.layers.convert;

import io.qat4j.layers.nn.QuantSites;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What {@link QatConverter} did to each layer and vertex of a network, in the network's order: what it was,
 * what it became and with which sites, or why it stayed float.
 *
 * <pre>
 * ConvolutionLayer conv1 -&gt; QuantConv2D (input int(bits=8, signed=false, observer=ema), weights int(bits=8, narrow=true, axis=channel))
 * BatchNormalization bn1: folded into conv1
 * LocalResponseNormalization lrn1: kept float (no quantized twin)
 * </pre>
 *
 * @param entries one entry per layer / vertex of the float network
 */
public record ConversionReport(List<Entry> entries) {

    /** What happened to one layer or vertex. */
    public enum Status {
        /** Replaced by its quantized twin. */
        CONVERTED,
        /** Batch normalization folded into the layer before it (which became a fused layer). */
        FOLDED,
        /** An activation layer merged into the quantized addition before it. */
        MERGED,
        /** Left as it is (float). */
        KEPT
    }

    /**
     * One layer or vertex.
     *
     * @param name   the layer / vertex name
     * @param from   its float class, e.g. {@code ConvolutionLayer} or {@code ElementWiseVertex(Add)}
     * @param status what happened to it
     * @param to     the class it became (CONVERTED), the layer it went into (FOLDED, MERGED), or null (KEPT)
     * @param detail the sites and settings it got (CONVERTED), or why it stayed float (KEPT); may be empty
     */
    public record Entry(String name, String from, Status status, String to, String detail) {

        /** A layer replaced by its twin. */
        static Entry converted(String name, String from, String to, String detail) {
            return new Entry(name, from, Status.CONVERTED, to, detail);
        }

        /** A layer kept float, and why. */
        static Entry kept(String name, String from, String why) {
            return new Entry(name, from, Status.KEPT, null, why);
        }

        /** The one-line form, e.g. {@code ConvolutionLayer conv1 -> QuantConv2D (weights int8)}. */
        @Override
        public String toString() {
            return switch (status) {
                case CONVERTED -> from + " " + name + " -> " + to + (detail.isEmpty() ? "" : " (" + detail + ")");
                case FOLDED -> from + " " + name + ": folded into " + to + (detail.isEmpty() ? "" : " (" + detail + ")");
                case MERGED -> from + " " + name + ": merged into " + to + (detail.isEmpty() ? "" : " (" + detail + ")");
                case KEPT -> from + " " + name + ": kept float (" + detail + ")";
            };
        }
    }

    /** The entries are copied (an unmodifiable list). */
    public ConversionReport {
        entries = List.copyOf(entries);
    }

    /** Number of layers / vertices with this status. */
    public long count(Status status) {
        return entries.stream().filter(e -> e.status() == status).count();
    }

    /** Number of layers / vertices replaced by their quantized twins. */
    public long converted() {
        return count(Status.CONVERTED);
    }

    /** Number of layers / vertices kept float. */
    public long keptFloat() {
        return count(Status.KEPT);
    }

    /** The entry of a layer or vertex. */
    public Entry entry(String name) {
        return entries.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("no layer or vertex named " + name + " in the report"));
    }

    /** How many layers / vertices of each class stayed float, by class name, e.g. {@code {ActivationLayer=3}}. */
    public Map<String, Long> keptByClass() {
        return entries.stream().filter(e -> e.status() == Status.KEPT)
                .collect(Collectors.groupingBy(Entry::from, TreeMap::new, Collectors.counting()));
    }

    /** One line: {@code 14 converted, 5 folded, 0 merged, 22 kept float}. */
    public String summary() {
        return converted() + " converted, " + count(Status.FOLDED) + " folded, " + count(Status.MERGED) + " merged, "
                + keptFloat() + " kept float";
    }

    /** A Markdown table: layer, was, became, sites or reason. */
    public String toTable() {
        StringBuilder b = new StringBuilder("| layer | was | became | sites / reason |\n|---|---|---|---|\n");
        for (Entry e : entries) {
            String became = switch (e.status()) {
                case CONVERTED -> e.to();
                case FOLDED -> "folded into " + e.to();
                case MERGED -> "merged into " + e.to();
                case KEPT -> "kept float";
            };
            b.append("| ").append(e.name()).append(" | ").append(e.from()).append(" | ").append(became).append(" | ")
                    .append(e.detail().replace("|", "\\|")).append(" |\n");
        }
        return b.toString();
    }

    /** The one-line forms, one per line. */
    @Override
    public String toString() {
        return entries.stream().map(Entry::toString).collect(Collectors.joining("\n"));
    }

    /** The sites of a converted layer that are not float, e.g. {@code input uint8, weights int(bits=8, axis=channel)}. */
    static String describe(QuantSites s) {
        StringBuilder b = new StringBuilder();
        for (QuantSites.Site site : QuantSites.Site.values()) {
            if (!s.spec(site).isFloat()) {
                b.append(b.length() == 0 ? "" : ", ").append(site.name().toLowerCase(java.util.Locale.ROOT))
                        .append(' ').append(s.spec(site));
            }
        }
        if (!s.errors().isFloat()) {
            b.append(b.length() == 0 ? "" : ", ").append("errors ").append(s.errors());
        }
        if (!s.accumulation().isFloat()) {
            b.append(b.length() == 0 ? "" : ", ").append("accumulation ").append(s.accumulation());
        }
        return b.length() == 0 ? "all sites float" : b.toString();
    }
}
