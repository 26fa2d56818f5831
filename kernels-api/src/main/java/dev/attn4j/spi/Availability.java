package dev.attn4j.spi;

import java.util.Objects;

/**
 * Whether a backend can run on this machine.
 *
 * @param available true when it can
 * @param reason    why not (or a note on what was found), one sentence
 */
public record Availability(boolean available, String reason) {

    /** Requires a reason. */
    public Availability {
        Objects.requireNonNull(reason, "reason");
    }

    /** Available, with a note on what was found. */
    public static Availability yes(String note) {
        return new Availability(true, note);
    }

    /** Unavailable, with the reason. */
    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
