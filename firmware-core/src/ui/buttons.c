/* Buttons: debounce and press classification, from the times passed in.
 *
 *   level   ___/~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\____
 *              |<-30 ms->| stable                        |
 *                        0 s ......... 3 s ......... 5 s  release
 *   events               (nothing)     HOLD3         HOLD5  (nothing)
 *   released before 3 s: a short press (LEFT / RIGHT) at the release.
 *
 * Holds fire while the button is still down, at 3 s and at 5 s, so the user
 * sees the result while holding. When both buttons are down together the
 * press is a "both" press: its time counts from the moment both were down,
 * it fires BOTH_HOLD3 only and no short press. When the menu used a hold
 * (swallow), the rest of that press is ignored until all buttons are up. */
#include "ui_priv.h"

void klefr_buttons_input(klefr_buttons *b, uint8_t held, uint64_t t_us)
{
    held &= KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT;
    if (held != b->raw) {
        b->raw = held;
        b->raw_us = t_us;
    }
}

static klefr_button_event hold_event(uint8_t combo, uint8_t level)
{
    if (combo == (KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT))
        return level == 3 ? KLEFR_BEV_BOTH_HOLD3 : KLEFR_BEV_NONE;
    if (combo == KLEFR_BTN_LEFT)
        return level == 3 ? KLEFR_BEV_LEFT_HOLD3 : KLEFR_BEV_LEFT_HOLD5;
    return level == 3 ? KLEFR_BEV_RIGHT_HOLD3 : KLEFR_BEV_RIGHT_HOLD5;
}

klefr_button_event klefr_buttons_poll(klefr_buttons *b, uint64_t t_us)
{
    /* debounce: take the raw level once it has been stable long enough */
    if (b->raw != b->stable && t_us - b->raw_us >= KLEFR_BTN_DEBOUNCE_US) {
        uint8_t was = b->stable;
        uint64_t at = b->raw_us + KLEFR_BTN_DEBOUNCE_US;
        b->stable = b->raw;
        if (!was) { /* a new press */
            b->combo = b->stable;
            b->press_us = at;
            b->fired = 0;
            b->swallow = false;
        } else if (b->stable) { /* a second button joined (or one of two left) */
            if ((b->stable | b->combo) != b->combo) {
                b->combo |= b->stable;
                b->press_us = at;
                b->fired = 0;
            }
        } else { /* all released */
            bool short_press =
                !b->fired && !b->swallow && b->combo != (KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
            b->swallow = false;
            if (short_press)
                return b->combo == KLEFR_BTN_LEFT ? KLEFR_BEV_LEFT : KLEFR_BEV_RIGHT;
            return KLEFR_BEV_NONE;
        }
    }
    /* holds: only while every button of the press is still down */
    if (!b->stable || b->stable != b->combo || b->swallow)
        return KLEFR_BEV_NONE;
    uint64_t dt = t_us - b->press_us;
    if (b->fired < 3 && dt >= KLEFR_BTN_HOLD3_US) {
        b->fired = 3;
        return hold_event(b->combo, 3);
    }
    if (b->fired < 5 && dt >= KLEFR_BTN_HOLD5_US) {
        b->fired = 5;
        return hold_event(b->combo, 5);
    }
    return KLEFR_BEV_NONE;
}

const char *klefr_button_event_to_str(klefr_button_event e)
{
    switch (e) {
    case KLEFR_BEV_NONE:
        return "none";
    case KLEFR_BEV_LEFT:
        return "left";
    case KLEFR_BEV_RIGHT:
        return "right";
    case KLEFR_BEV_LEFT_HOLD3:
        return "left-hold3";
    case KLEFR_BEV_RIGHT_HOLD3:
        return "right-hold3";
    case KLEFR_BEV_LEFT_HOLD5:
        return "left-hold5";
    case KLEFR_BEV_RIGHT_HOLD5:
        return "right-hold5";
    case KLEFR_BEV_BOTH_HOLD3:
        return "both-hold3";
    }
    return "?";
}
