package org.lustra.eval;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Point;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.imageio.ImageIO;
import org.lustra.util.Files2;

/**
 * A labelled grid of small images, for people: each image enlarged by an integer factor with nearest-neighbour
 * sampling (a 28-pixel image shown at 140 pixels keeps its pixels square and sharp instead of being blurred), a
 * caption under each tile (a prediction, green when right and red when wrong), column headers and row headers, in
 * sections with titles. Drawn with Java2D: it is a picture of images, not a chart, so no plotting library helps. Where
 * the JDK finds no font the tiles are drawn without their text and {@link Rendered#labelled()} says so.
 */
public final class ImagePanel {
    /** Caption colours: the prediction is the true class, is another class, or the caption is not a prediction. */
    public static final Color RIGHT = new Color(0x2e, 0xa0, 0x43);
    public static final Color WRONG = new Color(0xd7, 0x3a, 0x49);
    public static final Color NEUTRAL = Color.DARK_GRAY;

    private static final int GAP = 10;
    private static final int CAPTION = 16;
    private static final int HEADING = 28;
    private static final int SECTION_TITLE = 24;
    private static final int COLUMN_HEADER = 20;
    private static final int FOOTNOTE = 18;
    /** Approximate width of one character of the 11–12 pt sans-serif labels, for the row-header margin. */
    private static final int CHAR_WIDTH = 7;

    /** A caption under a tile; empty text draws nothing. */
    public record Caption(String text, Color color) {
        public static final Caption NONE = new Caption("", NEUTRAL);

        public Caption {
            text = text == null ? "" : text;
            color = color == null ? NEUTRAL : color;
        }
    }

    /** One row: a header on the left, and per column a tile (null leaves the cell empty) and its caption. */
    public record Row(String header, List<BufferedImage> tiles, List<Caption> captions) {
        public Row {
            header = header == null ? "" : header;
            if (tiles.size() != captions.size()) {
                throw new IllegalArgumentException("A panel row has " + tiles.size() + " tiles and " + captions.size()
                        + " captions; give one caption (possibly Caption.NONE) per tile.");
            }
            tiles = Collections.unmodifiableList(new ArrayList<>(tiles));
            captions = List.copyOf(captions);
        }
    }

    /** A titled block of rows sharing column headers (an empty list draws no header line). */
    public record Section(String title, List<String> columns, List<Row> rows) {
        public Section {
            title = title == null ? "" : title;
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
        }
    }

    /**
     * The drawn panel, whether its text could be drawn, the side of a tile in pixels and the top-left corner of every
     * tile place (section by section, row by row, column by column, empty places included).
     */
    public record Rendered(BufferedImage image, boolean labelled, int tile, List<Point> origins) {
        public Rendered {
            origins = List.copyOf(origins);
        }
    }

    private final int scale;
    private boolean labelled;
    private final List<Point> origins = new ArrayList<>();

    /** @param scale how many screen pixels per image pixel, 1–16 */
    public ImagePanel(int scale) {
        if (scale < 1 || scale > 16) {
            throw new IllegalArgumentException("Invalid panel scale " + scale + " (1..16).");
        }
        this.scale = scale;
    }

    /** Draws the sections under a heading, with footnote lines at the bottom (both may be empty). */
    public Rendered render(String heading, List<Section> sections, List<String> footnotes) {
        labelled = true;
        origins.clear();
        int tile = tileSize(sections) * scale;
        int columns = sections.stream().flatMap(s -> s.rows().stream()).mapToInt(r -> r.tiles().size()).max()
                .orElse(0);
        int longestHeader = sections.stream().flatMap(s -> s.rows().stream()).mapToInt(r -> r.header().length())
                .max().orElse(0);
        int left = longestHeader == 0 ? GAP : GAP + longestHeader * CHAR_WIDTH + GAP;
        // the heading and section titles widen the panel to fit (bold text runs wider per character); footnotes
        // are wrapped to the width the images and titles need
        int text = Math.max(9 * heading.length(), 8 * sections.stream().mapToInt(s -> s.title().length()).max()
                .orElse(0));
        int width = Math.max(left + columns * (tile + GAP), 16 + text);
        List<String> notes = wrap(footnotes, (width - 16) / CHAR_WIDTH);
        int height = (heading.isEmpty() ? 0 : HEADING) + FOOTNOTE * notes.size() + GAP;
        for (Section s : sections) {
            height += (s.title().isEmpty() ? 0 : SECTION_TITLE) + (s.columns().isEmpty() ? 0 : COLUMN_HEADER)
                    + s.rows().size() * (tile + CAPTION + GAP);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            // nearest neighbour: every image pixel becomes a sharp scale × scale square, as the classifier saw it
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            int y = 0;
            if (!heading.isEmpty()) {
                text(g, heading, 8, 19, Color.BLACK, Font.BOLD, 14);
                y = HEADING;
            }
            for (Section s : sections) {
                y = section(g, s, y, left, tile);
            }
            for (String note : notes) {
                text(g, note, 8, y + 13, NEUTRAL, Font.PLAIN, 11);
                y += FOOTNOTE;
            }
        } finally {
            g.dispose();
        }
        return new Rendered(img, labelled, tile, origins);
    }

    /** Renders and writes a PNG atomically; returns whether the text could be drawn. */
    public boolean write(Path file, String heading, List<Section> sections, List<String> footnotes) {
        Rendered r = render(heading, sections, footnotes);
        writePng(file, r.image());
        return r.labelled();
    }

    /** Writes an image as a PNG, atomically. */
    public static void writePng(Path file, BufferedImage image) {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files2.writeAtomically(file, png.toByteArray());
    }

    private int section(Graphics2D g, Section s, int top, int left, int tile) {
        int y = top;
        if (!s.title().isEmpty()) {
            text(g, s.title(), 8, y + 18, Color.BLACK, Font.BOLD, 12);
            y += SECTION_TITLE;
        }
        if (!s.columns().isEmpty()) {
            for (int c = 0; c < s.columns().size(); c++) {
                text(g, s.columns().get(c), left + c * (tile + GAP), y + 15, NEUTRAL, Font.PLAIN, 12);
            }
            y += COLUMN_HEADER;
        }
        for (Row r : s.rows()) {
            text(g, r.header(), GAP, y + tile / 2 + 4, Color.BLACK, Font.PLAIN, 11);
            for (int c = 0; c < r.tiles().size(); c++) {
                int x = left + c * (tile + GAP);
                origins.add(new Point(x, y));
                BufferedImage t = r.tiles().get(c);
                if (t != null) {
                    g.drawImage(t, x, y, tile, tile, null);
                }
                Caption cap = r.captions().get(c);
                text(g, cap.text(), x, y + tile + 13, cap.color(), Font.PLAIN, 11);
            }
            y += tile + CAPTION + GAP;
        }
        return y;
    }

    /** Breaks lines at spaces so that none is longer than {@code chars} characters (a longer word stands alone). */
    static List<String> wrap(List<String> lines, int chars) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            StringBuilder b = new StringBuilder();
            for (String word : line.split(" ")) {
                if (b.length() > 0 && b.length() + 1 + word.length() > chars) {
                    out.add(b.toString());
                    b.setLength(0);
                }
                b.append(b.length() > 0 ? " " : "").append(word);
            }
            out.add(b.toString());
        }
        return out;
    }

    /** The common side of every tile (square tiles of one size: a panel compares like with like). */
    private static int tileSize(List<Section> sections) {
        int size = -1;
        for (Section s : sections) {
            for (Row r : s.rows()) {
                for (BufferedImage t : r.tiles()) {
                    if (t == null) {
                        continue;
                    }
                    if (t.getWidth() != t.getHeight() || (size >= 0 && t.getWidth() != size)) {
                        throw new IllegalArgumentException("Panel tiles must be square and of one size; got "
                                + t.getWidth() + "x" + t.getHeight() + " after " + size + "x" + size + ".");
                    }
                    size = t.getWidth();
                }
            }
        }
        if (size < 0) {
            throw new IllegalArgumentException("A panel needs at least one image.");
        }
        return size;
    }

    /**
     * Draws a label; a JDK without any font throws from the font machinery (an Error in some versions), and then the
     * panel is finished without labels rather than not at all.
     */
    private void text(Graphics2D g, String s, int x, int y, Color color, int style, int points) {
        if (!labelled || s.isEmpty()) {
            return;
        }
        try {
            g.setColor(color);
            g.setFont(new Font(Font.SANS_SERIF, style, points));
            g.drawString(s, x, y);
        } catch (RuntimeException | InternalError | UnsatisfiedLinkError e) {
            labelled = false;
        }
    }
}
