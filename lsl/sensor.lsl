// sensor.lsl -- gosl-basics: register the avatars passing near this object, in batches.
//
// What it does
//   Every 30 s a sensor sweep (llSensorRepeat, AGENT, 96 m, all around) lists the avatars
//   nearby; each one not seen recently is queued as a "uuid,name" pair, and the queue is
//   sent to the service as one batch registration: a POST with the body
//   pairs=<llEscapeURL of the pairs joined by newlines>, at most 50 pairs a request.
//   The service answers "recorded R of N" and one "line K: reason" per refused pair
//   (say, an OpenSimulator name over 63 bytes); refused pairs are reported to the owner once
//   and not sent again. Touch it (owner only) for a count of what it did.
//
// The line to edit (two with writes = token)
//   string SERVICE_URL = ...   -> the address of your gosl-basics.fcgi (https:// is fine).
//   string TOKEN = "";         -> only when the service has writes = token: its secret
//                                 (sent in the POST body, which Apache does not log).
//   Optional: SCAN_RANGE / SCAN_EVERY below.
//
// Limits it touches
//   HTTP throttle: Second Life allows about 25 requests per 20 s per object (all scripts in
//     the linkset together). This script sends one batch at a time and at most one every
//     5 s (at most 4 per 20 s); when llHTTPRequest is throttled (NULL_KEY) or the service
//     answers 499 (no answer within 60 s), 5xx or any other failure, the same pairs are sent
//     again after 10, 20, 40 ... s (at most 300 s). A batch the service keeps refusing as a
//     whole (4xx three times, e.g. a service too old to know batches) is dropped, owner told.
//     413 or "too many pairs" halves the batch size.
//   Request body: at most 6,000 bytes (the service takes 8,192); the answer is at most a
//     dozen short lines, below the 2048-byte default body limit.
//   Sensor: 96 m is the maximum range; a sweep returns only the nearest avatars (16; newer
//     Second Life servers return up to 32); a 30 s period is gentle on the region.
//   Memory (64 KB under Mono): keys already queued are remembered as small integers, the
//     last 500 only (halved if memory runs low); at most 100 pairs wait in the queue;
//     avatars beyond that are picked up by a later sweep.
//
// W-Hat compatibility
//   Batch registration is a gosl-basics extension: W-Hat and the Go program do not have it
//   (they answer 404 to a batch; this script then drops its batches and tells the owner).
//   Against those services use touch.lsl, which sends the classic ?name=...&key=... form.
//   Lookups by old W-Hat scripts (?terse=1&name=...) keep working on this service.

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";
string TOKEN = "";             // writes = token only: the service's secret

float SCAN_RANGE = 96.0;        // metres; 96 is the maximum
float SCAN_EVERY = 30.0;        // seconds between sweeps

integer BATCH_PAIRS = 50;       // pairs per request at most (the service takes 50)
integer BATCH_BYTES = 6000;     // request body bytes at most (the service takes 8192)
integer MIN_GAP = 5;            // seconds between two requests at least
integer MAX_BACKOFF = 300;      // longest wait after failures, seconds
integer SEEN_MAX = 500;         // avatars remembered so they are not sent twice
integer QUEUE_MAX = 100;        // pairs waiting at most
integer MEMORY_HIGH = 52000;    // bytes used above which the remembered keys are halved

list gSeen = [];                // the last 7 hex digits of each key queued, as integers, oldest first
list gQueue = [];               // "uuid,name" pairs waiting, oldest first
key gRequest = NULL_KEY;        // the batch in flight, NULL_KEY when none
integer gInFlight = 0;          // the first gInFlight pairs of gQueue are in that batch
integer gSentAt = 0;            // unix time it was sent
integer gNextSend = 0;          // unix time before which no batch is sent
integer gBackoff = 0;           // current wait after failures, seconds; 0 after a success
integer gStrikes = 0;           // times in a row the service refused the batch as a whole
integer gLimit = 50;            // pairs per batch now (halved after a 413)
integer gRecorded = 0;          // pairs the service recorded
integer gRefused = 0;           // pairs the service refused

// A short tag for a key: its last 7 hex digits as an integer (28 random bits of a
// version-4 UUID), far cheaper to keep in a list than the 36-character key.
integer tag(key id)
{
    return (integer)("0x" + llGetSubString((string)id, -7, -1));
}

remember(key id, string name)
{
    if (id == NULL_KEY || name == "")
    {
        return;
    }
    integer t = tag(id);
    if (llListFindList(gSeen, [t]) != -1)
    {
        return;
    }
    if (llGetListLength(gQueue) >= QUEUE_MAX)
    {
        return; // not remembered: a later sweep finds them again
    }
    if (llGetUsedMemory() > MEMORY_HIGH)
    {
        gSeen = llDeleteSubList(gSeen, 0, llGetListLength(gSeen) / 2);
    }
    gSeen += [t];
    if (llGetListLength(gSeen) > SEEN_MAX)
    {
        gSeen = llDeleteSubList(gSeen, 0, 0);
    }
    gQueue += [(string)id + "," + name];
}

back_off()
{
    if (gBackoff == 0)
    {
        gBackoff = 2 * MIN_GAP;
    }
    else
    {
        gBackoff = gBackoff * 2;
    }
    if (gBackoff > MAX_BACKOFF)
    {
        gBackoff = MAX_BACKOFF;
    }
    gNextSend = llGetUnixTime() + gBackoff;
}

send_batch()
{
    integer n = llGetListLength(gQueue);
    string body = "pairs=";
    integer count = 0;
    integer full = FALSE;
    while (count < n && !full)
    {
        // llEscapeURL of the pairs joined by "\n" is each pair escaped, joined by "%0A".
        string piece = llEscapeURL(llList2String(gQueue, count));
        if (count > 0)
        {
            piece = "%0A" + piece;
        }
        if (count >= gLimit || llStringLength(body) + llStringLength(piece) > BATCH_BYTES)
        {
            full = TRUE;
        }
        else
        {
            body += piece;
            ++count;
        }
    }
    if (count == 0)
    {
        llOwnerSay("Dropped a pair too long to send: " + llGetSubString(llList2String(gQueue, 0), 0, 100));
        gQueue = llDeleteSubList(gQueue, 0, 0);
        return;
    }
    // lslint: TOKEN is the setting above: constant as shipped (""), set by the owner.
    if (TOKEN != "")
    {
        body = "token=" + llEscapeURL(TOKEN) + "&" + body;
    }
    gSentAt = llGetUnixTime();
    gRequest = llHTTPRequest(SERVICE_URL, [HTTP_METHOD, "POST",
        HTTP_MIMETYPE, "application/x-www-form-urlencoded", HTTP_VERBOSE_THROTTLE, FALSE], body);
    if (gRequest == NULL_KEY)
    {
        back_off(); // throttled: the pairs stay queued
        return;
    }
    gInFlight = count;
    gNextSend = gSentAt + MIN_GAP;
}

// Sends a batch when one is due; keeps the timer running while there is work.
pump()
{
    integer now = llGetUnixTime();
    if (gRequest != NULL_KEY && now - gSentAt > 90)
    {
        // No answer at all (Second Life reports 499 after 60 s; this is a safety net).
        gRequest = NULL_KEY;
        gInFlight = 0;
        back_off();
    }
    if (gRequest == NULL_KEY && llGetListLength(gQueue) > 0 && now >= gNextSend)
    {
        send_batch();
    }
    if (gRequest != NULL_KEY || llGetListLength(gQueue) > 0)
    {
        llSetTimerEvent((float)MIN_GAP);
    }
    else
    {
        llSetTimerEvent(0.0);
    }
}

answered(integer status, string body)
{
    integer sent = gInFlight;
    gInFlight = 0;
    if (status == 200 && llSubStringIndex(body, "recorded ") == 0)
    {
        // "recorded R of N", then "line K: reason" per refused pair (10 at most),
        // then "... and M more refused".
        list lines = llParseString2List(body, ["\n"], []);
        list words = llParseString2List(llList2String(lines, 0), [" "], []);
        gRecorded += (integer)llList2String(words, 1);
        integer m = llGetListLength(lines);
        integer k;
        for (k = 1; k < m; ++k)
        {
            string line = llList2String(lines, k);
            if (llSubStringIndex(line, "line ") == 0)
            {
                integer at = (integer)llGetSubString(line, 5, -1) - 1;
                ++gRefused;
                llOwnerSay("refused " + line + " [" + llList2String(gQueue, at) + "]");
            }
            else
            {
                gRefused += (integer)llGetSubString(line, 8, -1);
                llOwnerSay("refused " + line);
            }
        }
        if (sent > 0)
        {
            gQueue = llDeleteSubList(gQueue, 0, sent - 1);
        }
        gBackoff = 0;
        gStrikes = 0;
    }
    else if (status == 413 || (status == 400 && llSubStringIndex(body, "too many pairs") == 0))
    {
        gLimit = gLimit / 2;
        if (gLimit < 1)
        {
            gLimit = 1;
        }
        gNextSend = llGetUnixTime() + MIN_GAP;
    }
    else if (status == 499 || status == 408 || status == 429 || status >= 500 || status < 200)
    {
        back_off(); // transient: the same pairs go again later
    }
    else
    {
        // Refused as a whole (4xx), or a 200 that is not a batch answer.
        ++gStrikes;
        if (gStrikes >= 3)
        {
            llOwnerSay("Dropped " + (string)sent + " pairs: the service refuses them (" + (string)status
                + "): " + llGetSubString(body, 0, 200));
            if (sent > 0)
            {
                gQueue = llDeleteSubList(gQueue, 0, sent - 1);
            }
            gStrikes = 0;
            gBackoff = 0;
            gNextSend = llGetUnixTime() + MIN_GAP;
        }
        else
        {
            back_off();
        }
    }
}

default
{
    state_entry()
    {
        gLimit = BATCH_PAIRS;
        llSensorRepeat("", NULL_KEY, AGENT, SCAN_RANGE, PI, SCAN_EVERY);
    }

    on_rez(integer start_param)
    {
        llResetScript();
    }

    changed(integer change)
    {
        if (change & CHANGED_OWNER)
        {
            llResetScript();
        }
    }

    sensor(integer count)
    {
        integer i;
        for (i = 0; i < count; ++i)
        {
            remember(llDetectedKey(i), llDetectedName(i));
        }
        pump();
    }

    no_sensor()
    {
        pump();
    }

    touch_start(integer count)
    {
        integer i;
        integer owner = FALSE;
        for (i = 0; i < count; ++i)
        {
            if (llDetectedKey(i) == llGetOwner())
            {
                owner = TRUE;
            }
        }
        if (owner)
        {
            llOwnerSay((string)gRecorded + " recorded, " + (string)gRefused + " refused, "
                + (string)llGetListLength(gQueue) + " waiting, " + (string)llGetListLength(gSeen)
                + " remembered, " + (string)llGetUsedMemory() + " bytes used.");
        }
    }

    http_response(key request_id, integer status, list metadata, string body)
    {
        if (request_id != gRequest)
        {
            return;
        }
        gRequest = NULL_KEY;
        answered(status, body);
        pump();
    }

    timer()
    {
        pump();
    }
}
