// name2key_lib.lsl -- gosl-basics: name2key / key2name lookups to drop into your own script.
//
// What it does
//   gosl_lookup_name("Mini Resident") asks the service for an avatar's key, and
//   gosl_lookup_key(id) for an avatar's name. The answer arrives later as a call of one
//   of three functions that you write (see "YOUR PART" below):
//     gosl_found(string name, key id)     -- name and key (for a name lookup, the name asked)
//     gosl_not_found(string asked)        -- the service does not know it (answered the
//                                            null key for a name, an empty body for a key)
//     gosl_failed(string asked, integer status)  -- no usable answer: the HTTP status, 0 when
//                                            Second Life kept throttling, -1 (GOSL_BUSY) when
//                                            too many lookups were already pending
//   Both lookup functions return the request key of the first try (NULL_KEY when it had to
//   wait for a retry, or was refused as GOSL_BUSY); you do not need it: the callbacks carry
//   what was asked.
//   gosl_lookup_many(names) asks for up to 50 names in ONE request (a roster, a ban list)
//   and answers with a fourth function you write:
//     gosl_found_many(list names, list keys) -- keys in the order of names: the key, NULL_KEY
//                                            when not known, "" for a name the service refused
//                                            (malformed); a failure is gosl_failed(the names
//                                            joined by "\n", status)
//   When the service answers 503 (busy; 502/504 from a proxy in front of it) or 499 (Second
//   Life's "no answer within 60 s"), when llHTTPRequest returns NULL_KEY (throttled), or when
//   the answer is lost (see "Lost answers"), the lookup is tried again after 2, 4, 8 and 16 s
//   (4 retries at most, then gosl_failed). Other statuses (400: a malformed key or a name over
//   63 bytes) go straight to gosl_failed.
//
// How to use it
//   Copy everything from "LIBRARY" to "END OF LIBRARY" into your script, above its first
//   state; write the callbacks; in your events call
//       http_response: if (gosl_http_response(request_id, status, body)) return;
//       timer:         gosl_tick();   (see "The timer is yours")
//       on_rez, and changed() with CHANGED_REGION, CHANGED_TELEPORT or CHANGED_REGION_START:
//                      gosl_lost();
//   This file is also a complete example script: touch it to look up your own key by name
//   and the owner's name by key.
//
// The timer is yours: the library never calls llSetTimerEvent
//   Time matters to it twice: a retry waits 2 to 16 s, and an answer that never comes is
//   given up for lost after GOSL_ANSWER_WAIT (70 s) and retried. Both are done by
//   gosl_tick(), which every gosl_lookup_* call also runs before it sends, and every
//   gosl_http_response call after it reads the answer: a lost answer never keeps one of the
//   4 places for good, timer or not. gosl_tick() returns the
//   seconds until it has work again (0.0 when nothing is pending):
//   - a script whose timer serves only the library does llSetTimerEvent(gosl_tick()) after
//     its lookups and in timer(), as the example at the end does;
//   - a script with a timer of its own calls gosl_tick() in timer() and keeps its own period
//     (a retry then waits up to one period longer);
//   - a script without a timer gets its retries sent, and its lost answers noticed, at its
//     next lookup or HTTP answer.
//   The library uses llGetUnixTime, not llGetTime, which your script may reset.
//
// Lost answers
//   Second Life does not promise an http_response: it is lost when the object changes region
//   (an attachment, a HUD or a vehicle crossing or teleporting) and when the region restarts.
//   gosl_lost() treats every request in flight as lost at once (retried like a 499); without
//   it they are noticed GOSL_ANSWER_WAIT after they were sent. A lookup given up after a lost
//   answer reaches gosl_failed with 499.
//
// The ONE line to edit
//   string SERVICE_URL = ...   -> the address of your gosl-basics.fcgi (https:// is fine).
//
// Limits it touches
//   HTTP throttle: Second Life allows about 25 requests per 20 s per object (all scripts in
//     the linkset together); at most GOSL_MAX_PENDING (4) lookups are kept at once, so a
//     burst stays far below it, and throttled requests are retried, not lost.
//   Answers are a UUID or a name, far below the 2048-byte default body limit.
//   Memory: 5 list entries per pending lookup (at most 4 lookups); a pending batch holds its
//     names as one string (50 names of 63 bytes: ~6.4 KB in Mono, 18 bytes + 2 a character);
//     while a batch answer is read, the names, the answer's lines and the keys are lists of
//     their own as well (~16 KB more at most, freed when gosl_found_many returns).
//
// W-Hat compatibility
//   It asks in the W-Hat / Go gosl-basics form (?name=... / ?key=..., compat answers), so it
//   works against the Go program and other W-Hat-style services too. Old scripts built on
//   W-Hat's ?terse=1&name=... keep working against this service unchanged.

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";

// ========================= YOUR PART: the callbacks ==============================

gosl_found(string name, key id)
{
    llOwnerSay(name + " = " + (string)id);
}

gosl_not_found(string asked)
{
    llOwnerSay("'" + asked + "' is not known to the name2key service.");
}

gosl_failed(string asked, integer status)
{
    llOwnerSay("Looking up '" + asked + "' failed (status " + (string)status + ").");
}

gosl_found_many(list names, list keys)
{
    integer n = llGetListLength(names);
    integer i;
    for (i = 0; i < n; ++i)
    {
        llOwnerSay(llList2String(names, i) + " = " + llList2String(keys, i));
    }
}

// ================================= LIBRARY ========================================

integer GOSL_MAX_PENDING = 4;   // lookups kept at once
integer GOSL_MAX_RETRIES = 4;   // waits of 2, 4, 8, 16 s
integer GOSL_BUSY = -1;         // status given to gosl_failed when too many are pending
integer GOSL_STRIDE = 5;
integer GOSL_MAX_BATCH = 50;    // names in one gosl_lookup_many
integer GOSL_ANSWER_WAIT = 70;  // seconds: Second Life answers 499 within 60 s, so an answer
                                // still missing after 70 s was lost

// Pending lookups, strided: [request key as string ("" while waiting to retry),
// kind (0 = by name, 1 = by key, 2 = many names), what was asked (the names joined by "\n"
// for kind 2), retries done, unix time: when it was sent (in flight) or is due (waiting)].
list gosl_pending = [];
// Lookups given up, [asked, status]: gosl_failed is called only once gosl_pending is
// consistent again, since your gosl_failed may well start another lookup.
list gosl_given_up = [];

key gosl_send(integer kind, string asked)
{
    string url = SERVICE_URL + "?name=" + llEscapeURL(asked);
    if (kind == 1)
    {
        url = SERVICE_URL + "?key=" + asked;
    }
    if (kind == 2)
    {
        // One POST, the names a line each: the answer has a key a line, in the same order.
        return llHTTPRequest(SERVICE_URL, [HTTP_METHOD, "POST",
            HTTP_MIMETYPE, "application/x-www-form-urlencoded", HTTP_VERBOSE_THROTTLE, FALSE],
            "names=" + llEscapeURL(asked));
    }
    return llHTTPRequest(url, [HTTP_METHOD, "GET", HTTP_VERBOSE_THROTTLE, FALSE], "");
}

// The entry at index i failed with `status` (or its answer was lost: 499): it waits 2, 4, 8,
// 16 s at the end of the list, or is given up. Either way index i now holds the next entry.
gosl_retry_or_fail(integer i, integer status)
{
    integer kind = llList2Integer(gosl_pending, i + 1);
    string asked = llList2String(gosl_pending, i + 2);
    integer retries = llList2Integer(gosl_pending, i + 3);
    gosl_pending = llDeleteSubList(gosl_pending, i, i + GOSL_STRIDE - 1);
    if (retries >= GOSL_MAX_RETRIES)
    {
        gosl_given_up += [asked, status];
        return;
    }
    gosl_pending += ["", kind, asked, retries + 1, llGetUnixTime() + (2 << retries)];
}

// Tells your gosl_failed about the lookups given up.
gosl_report()
{
    list given_up = gosl_given_up;
    gosl_given_up = [];
    integer n = llGetListLength(given_up);
    integer i;
    for (i = 0; i < n; i += 2)
    {
        gosl_failed(llList2String(given_up, i), llList2Integer(given_up, i + 1));
    }
}

// Gives up for lost the answers overdue, sends the retries that are due, and returns the
// seconds until it has work again (0.0: nothing pending). Call it from your timer().
float gosl_tick()
{
    integer now = llGetUnixTime();
    integer i = 0;
    while (i < llGetListLength(gosl_pending))
    {
        string request = llList2String(gosl_pending, i);
        integer at = llList2Integer(gosl_pending, i + 4);
        if (request != "" && now - at >= GOSL_ANSWER_WAIT)
        {
            gosl_retry_or_fail(i, 499);
        }
        else if (request == "" && at <= now)
        {
            integer kind = llList2Integer(gosl_pending, i + 1);
            string asked = llList2String(gosl_pending, i + 2);
            integer retries = llList2Integer(gosl_pending, i + 3);
            key sent = gosl_send(kind, asked);
            if (sent == NULL_KEY)
            {
                gosl_retry_or_fail(i, 0);  // still throttled: a longer wait, or given up
            }
            else
            {
                gosl_pending = llListReplaceList(gosl_pending,
                    [(string)sent, kind, asked, retries, now], i, i + GOSL_STRIDE - 1);
                i += GOSL_STRIDE;
            }
        }
        else
        {
            i += GOSL_STRIDE;
        }
    }
    gosl_report();

    integer next = 0;
    integer n = llGetListLength(gosl_pending);
    for (i = 0; i < n; i += GOSL_STRIDE)
    {
        integer due = llList2Integer(gosl_pending, i + 4);
        if (llList2String(gosl_pending, i) != "")
        {
            due += GOSL_ANSWER_WAIT;
        }
        if (next == 0 || due < next)
        {
            next = due;
        }
    }
    if (next == 0)
    {
        return 0.0;
    }
    if (next - now < 1)
    {
        return 1.0;
    }
    return (float)(next - now);
}

// Call from on_rez, and from changed() on CHANGED_REGION, CHANGED_TELEPORT or
// CHANGED_REGION_START: the answers in flight will not come; each lookup is retried like a 499.
gosl_lost()
{
    integer i = 0;
    while (i < llGetListLength(gosl_pending))
    {
        if (llList2String(gosl_pending, i) != "")
        {
            gosl_retry_or_fail(i, 499);
        }
        else
        {
            i += GOSL_STRIDE;
        }
    }
    gosl_report();
}

key gosl_lookup(integer kind, string asked)
{
    gosl_tick();  // lost answers give their place up first
    if (llGetListLength(gosl_pending) >= GOSL_MAX_PENDING * GOSL_STRIDE)
    {
        gosl_failed(asked, GOSL_BUSY);
        return NULL_KEY;
    }
    key request = gosl_send(kind, asked);
    if (request == NULL_KEY)
    {
        // Throttled: first retry in 2 s.
        gosl_pending += ["", kind, asked, 1, llGetUnixTime() + 2];
    }
    else
    {
        gosl_pending += [(string)request, kind, asked, 0, llGetUnixTime()];
    }
    return request;
}

key gosl_lookup_name(string name)
{
    return gosl_lookup(0, llStringTrim(name, STRING_TRIM));
}

key gosl_lookup_key(key id)
{
    return gosl_lookup(1, (string)id);
}

key gosl_lookup_many(list names)
{
    if (llGetListLength(names) > GOSL_MAX_BATCH)
    {
        gosl_failed(llDumpList2String(names, "\n"), 400);  // the service takes 50 at most
        return NULL_KEY;
    }
    return gosl_lookup(2, llDumpList2String(names, "\n"));
}

// Index of the pending entry of a request key, or -1. Entries waiting to retry hold "", so
// NULL_KEY finds nothing.
integer gosl_find(string request)
{
    integer n = llGetListLength(gosl_pending);
    integer i;
    integer found = -1;
    for (i = 0; i < n; i += GOSL_STRIDE)
    {
        if (found == -1 && llList2String(gosl_pending, i) == request)
        {
            found = i;
        }
    }
    return found;
}

// The answer to the entry at index i: retried, or taken out and given to your callbacks.
gosl_answered(integer i, integer status, string body)
{
    if (status == 499 || status == 503 || status == 502 || status == 504)
    {
        gosl_retry_or_fail(i, status);
        return;
    }
    integer kind = llList2Integer(gosl_pending, i + 1);
    string asked = llList2String(gosl_pending, i + 2);
    gosl_pending = llDeleteSubList(gosl_pending, i, i + GOSL_STRIDE - 1);
    if (status != 200)
    {
        gosl_failed(asked, status);
        return;
    }
    if (kind == 2)
    {
        list names = llParseStringKeepNulls(asked, ["\n"], []);
        list lines = llParseStringKeepNulls(body, ["\n"], []);
        list keys = [];
        integer n = llGetListLength(names);
        integer j;
        for (j = 0; j < n; ++j)
        {
            string line = llStringTrim(llList2String(lines, j), STRING_TRIM);
            string answer = NULL_KEY;  // not known (or no UUID where one belongs)
            if (llGetSubString(line, 0, 1) == "! ")
            {
                answer = "";  // the service refused this name
            }
            else if ((key)line)
            {
                answer = line;
            }
            keys += [answer];
        }
        gosl_found_many(names, keys);
        return;
    }
    body = llStringTrim(body, STRING_TRIM);
    if (kind == 1)
    {
        if (body == "")
        {
            gosl_not_found(asked);
        }
        else
        {
            gosl_found(body, (key)asked);
        }
    }
    else if (body == NULL_KEY || body == "")
    {
        gosl_not_found(asked);
    }
    else if ((key)body)
    {
        gosl_found(asked, (key)body);
    }
    else
    {
        gosl_failed(asked, status); // a 200 that is not a UUID: not a name2key service
    }
}

// Call from http_response; TRUE when the answer was one of the library's requests. Any
// answer, yours too, is also a moment to send due retries and give up lost answers.
integer gosl_http_response(key request_id, integer status, string body)
{
    integer i = gosl_find((string)request_id);
    if (i != -1)
    {
        gosl_answered(i, status, body);
    }
    gosl_tick();
    return i != -1;
}

// ============================== END OF LIBRARY ====================================

// An example: touch to look up your own key by your name, and the owner's name by key;
// then both names in one request. Its timer serves only the library.
default
{
    touch_start(integer count)
    {
        gosl_lookup_name(llDetectedName(0));
        gosl_lookup_key(llGetOwner());
        gosl_lookup_many([llDetectedName(0), llKey2Name(llGetOwner())]);
        llSetTimerEvent(gosl_tick());
    }

    http_response(key request_id, integer status, list metadata, string body)
    {
        if (gosl_http_response(request_id, status, body))
        {
            llSetTimerEvent(gosl_tick());
            return;
        }
        // ... your script's other HTTP requests here ...
    }

    timer()
    {
        llSetTimerEvent(gosl_tick());
    }

    on_rez(integer start_param)
    {
        gosl_lost();
        llSetTimerEvent(gosl_tick());
    }

    changed(integer change)
    {
        if (change & (CHANGED_REGION | CHANGED_TELEPORT | CHANGED_REGION_START))
        {
            gosl_lost();
            llSetTimerEvent(gosl_tick());
        }
    }
}
