// collision.lsl -- gosl-basics: register the avatars walking through this object, in batches.
//
// What it does
//   The prim is made phantom with llVolumeDetect(TRUE): avatars walk through it and each
//   one raises collision_start. Each avatar not seen recently is queued as a "uuid,name"
//   pair, and the queue is sent to the service as one batch registration: a POST with the
//   body pairs=<llEscapeURL of the pairs joined by newlines>, at most 50 pairs a request.
//   The service answers "recorded R of N" and one "line K: reason" per refused pair
//   (say, an OpenSimulator name over 63 bytes); refused pairs are reported to the owner once
//   and not sent again. Touch it (owner only) for a count of what it did.
//   Make it a doorway, a welcome mat or a teleport landing point: a big, invisible prim
//   where people arrive catches everyone, at no cost to the region while nobody passes.
//
// The line to edit (two with writes = token)
//   string SERVICE_URL = ...   -> the address of your gosl-basics.fcgi (https:// is fine).
//   string TOKEN = "";         -> only when the service has writes = token: its secret
//                                 (sent in the POST body, which Apache does not log).
//
// Limits it touches
//   HTTP throttle: Second Life allows about 25 requests per 20 s per object (all scripts in
//     the linkset together). This script sends one batch at a time and at most one every
//     5 s (at most 4 per 20 s); when llHTTPRequest is throttled (NULL_KEY) or the service
//     answers 499 (no answer within 60 s), 5xx or any other failure, the same pairs are sent
//     again after 10, 20, 40 ... s (at most 300 s). A batch the service keeps refusing as a
//     whole (4xx three times, e.g. a service too old to know batches) is dropped, owner told.
//     413 or "too many pairs" halves the batch (half the pairs just sent); each full batch
//     recorded afterwards lets it grow by one pair, back to 50.
//   Lost answers: Second Life does not always call http_response (the object changed region,
//     the region restarted). A batch unanswered after 70 s, or in flight when the object
//     changes region or teleports, is treated as a 499: its pairs stay queued and go again
//     after the wait (registering twice is harmless). A reset (and every rez) starts afresh,
//     with nothing queued or remembered.
//   Request body: at most 3,600 characters, what a batch needs (50 typical pairs are ~3,300;
//     the service takes 8,192 bytes); the answer is at most a dozen short lines, below the
//     2048-byte default body limit.
//   llVolumeDetect applies to the whole object (put the script in the root prim); the
//     object becomes phantom. Only avatars are queued (llDetectedType & AGENT).
//   Memory (64 KB under Mono, the bytecode included): every structure is bounded in bytes.
//     Keys already queued are remembered as integers, the last 500 (8,000 bytes); at most
//     100 pairs and 3,600 characters wait in the queue (9,000 bytes); the body, built with
//     its old and new copy at once, takes 14,436 bytes at most. With the bytecode that is
//     ~52 KB at worst (docs/lsl.md, "Memory", has the table). Past MEMORY_HIGH bytes used,
//     the older half of the remembered keys is forgotten, and while that is not enough no
//     new pair is queued; avatars left out are queued when they next walk through.
//
// W-Hat compatibility
//   Batch registration is a gosl-basics extension: W-Hat and the Go program do not have it
//   (they answer 404 to a batch; this script then drops its batches and tells the owner).
//   Against those services use touch.lsl, which sends the classic ?name=...&key=... form.
//   Lookups by old W-Hat scripts (?terse=1&name=...) keep working on this service.

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";
string TOKEN = "";             // writes = token only: the service's secret

integer BATCH_PAIRS = 50;       // pairs per request at most (the service takes 50)
integer BATCH_BYTES = 3600;     // request body characters at most (50 typical pairs: ~3,300)
integer MIN_GAP = 5;            // seconds between two requests at least
integer MAX_BACKOFF = 300;      // longest wait after failures, seconds
integer ANSWER_WAIT = 70;       // seconds: Second Life answers 499 within 60 s, so an answer
                                // still missing after 70 s was lost
integer SEEN_MAX = 500;         // avatars remembered so they are not sent twice (16 bytes each)
integer QUEUE_MAX = 100;        // pairs waiting at most
integer QUEUE_CHARS = 3600;     // characters of the pairs waiting at most (2 bytes each in Mono)
integer MEMORY_HIGH = 46000;    // bytes used past which remembered keys are forgotten and no new
                                // pair is queued: room left for building a body (14,436 bytes)

list gSeen = [];                // the last 7 hex digits of each key queued, as integers, oldest first
list gQueue = [];               // "uuid,name" pairs waiting, oldest first
integer gQueueChars = 0;        // characters in gQueue
key gRequest = NULL_KEY;        // the batch in flight, NULL_KEY when none
integer gInFlight = 0;          // the first gInFlight pairs of gQueue are in that batch
integer gSentAt = 0;            // unix time it was sent
integer gNextSend = 0;          // unix time before which no batch is sent
integer gBackoff = 0;           // current wait after failures, seconds; 0 after a success
integer gStrikes = 0;           // times in a row the service refused the batch as a whole
integer gLimit = 50;            // pairs per batch now (halved after a 413, then growing back)
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
    string pair = (string)id + "," + name;
    integer size = llStringLength(pair);
    if (llGetListLength(gQueue) >= QUEUE_MAX || gQueueChars + size > QUEUE_CHARS)
    {
        return; // not remembered: queued when they next walk through
    }
    if (llGetUsedMemory() > MEMORY_HIGH)
    {
        // Short of memory: the older half of the remembered keys goes first...
        gSeen = llDeleteSubList(gSeen, 0, llGetListLength(gSeen) / 2);
        if (llGetUsedMemory() > MEMORY_HIGH)
        {
            return; // ...and while that is not enough, nobody more is queued
        }
    }
    gSeen += [t];
    if (llGetListLength(gSeen) > SEEN_MAX)
    {
        gSeen = llDeleteSubList(gSeen, 0, 0);
    }
    gQueue += [pair];
    gQueueChars += size;
}

// Takes the first n pairs off the queue.
unqueue(integer n)
{
    if (n <= 0)
    {
        return; // llDeleteSubList(gQueue, 0, -1) would empty it
    }
    integer i;
    for (i = 0; i < n; ++i)
    {
        gQueueChars -= llStringLength(llList2String(gQueue, i));
    }
    gQueue = llDeleteSubList(gQueue, 0, n - 1);
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
    // lslint: TOKEN is the setting above: constant as shipped (""), set by the owner.
    if (TOKEN != "")
    {
        // In front from the start: added at the end it would copy the whole body once more.
        body = "token=" + llEscapeURL(TOKEN) + "&pairs=";
    }
    integer size = llStringLength(body);
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
        integer length = llStringLength(piece);
        if (count >= gLimit || size + length > BATCH_BYTES)
        {
            full = TRUE;
        }
        else
        {
            body += piece;  // the old body and the new one exist at once: 2 x BATCH_BYTES at most
            size += length;
            ++count;
        }
    }
    if (count == 0)
    {
        llOwnerSay("Dropped a pair too long to send: " + llGetSubString(llList2String(gQueue, 0), 0, 100));
        unqueue(1);
        return;
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

// The batch in flight will get no answer (overdue, or lost with a region change or restart):
// its pairs stay queued and go again after the wait, as after a 499.
answer_lost()
{
    gRequest = NULL_KEY;
    gInFlight = 0;
    back_off();
}

// Sends a batch when one is due; keeps the timer running while there is work.
pump()
{
    integer now = llGetUnixTime();
    if (gRequest != NULL_KEY && now - gSentAt >= ANSWER_WAIT)
    {
        answer_lost();
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
        unqueue(sent);
        gBackoff = 0;
        gStrikes = 0;
        // A full batch went through: the size a 413 cut grows back, a pair at a time (a lasting
        // limit in front of the service costs one 413 every few dozen batches).
        if (sent >= gLimit && gLimit < BATCH_PAIRS)
        {
            ++gLimit;
        }
    }
    else if (status == 413 || (status == 400 && llSubStringIndex(body, "too many pairs") == 0))
    {
        // Half of what was sent, which may be fewer than gLimit (the body's size, the queue).
        gLimit = sent / 2;
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
            unqueue(sent);
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
        llVolumeDetect(TRUE);
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
        if (change & (CHANGED_REGION | CHANGED_TELEPORT | CHANGED_REGION_START))
        {
            // The answer of a batch in flight is lost with the move (or the restart).
            if (gRequest != NULL_KEY)
            {
                answer_lost();
            }
            pump();
        }
    }

    collision_start(integer count)
    {
        integer i;
        for (i = 0; i < count; ++i)
        {
            if (llDetectedType(i) & AGENT)
            {
                remember(llDetectedKey(i), llDetectedName(i));
            }
        }
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
                + (string)llGetListLength(gQueue) + " waiting (" + (string)gQueueChars + " characters), "
                + (string)llGetListLength(gSeen)
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
        body = "";  // read: freed before pump() builds the next request body
        pump();
    }

    timer()
    {
        pump();
    }
}
