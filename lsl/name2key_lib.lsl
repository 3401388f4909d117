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
//   Life's "no answer within 60 s"), or llHTTPRequest returns NULL_KEY (throttled), the
//   lookup is tried again after 2, 4, 8 and 16 s (4 retries at most, then gosl_failed),
//   with the script's timer. Other statuses (400: a malformed key or a name over 63 bytes)
//   go straight to gosl_failed.
//
// How to use it
//   Copy everything from "LIBRARY" to "END OF LIBRARY" into your script, above its first
//   state; write the three callbacks; in your events call
//       http_response: if (gosl_http_response(request_id, status, body)) return;
//       timer:         gosl_timer();
//   The library sets the script's timer (llSetTimerEvent) while retries wait: if your script
//   uses the timer too, call gosl_timer() from your timer() event first and restart your own
//   timer after it; gosl_timer() does nothing when no retry is due.
//   This file is also a complete example script: touch it to look up your own key by name
//   and the owner's name by key.
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
//     names as one string (50 names of 63 bytes: ~6.4 KB in Mono, 18 bytes + 2 a character).
//
// W-Hat compatibility
//   It asks in the W-Hat / Go gosl-basics form (?name=... / ?key=..., compat answers), so it
//   works against the Go program and other W-Hat-style services too. Old scripts built on
//   W-Hat's ?terse=1&name=... keep working against this service unchanged.

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";

// ======================= YOUR PART: the three callbacks ==========================

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

// Pending lookups, strided: [request key as string ("" while waiting to retry),
// kind (0 = by name, 1 = by key, 2 = many names), what was asked (the names joined by "\n"
// for kind 2), retries done, unix time of the next try (0 while in flight)].
list gosl_pending = [];

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

// Sets the timer to the earliest retry, or stops it when none waits.
gosl_arm_timer()
{
    integer now = llGetUnixTime();
    integer next = 0;
    integer n = llGetListLength(gosl_pending);
    integer i;
    for (i = 0; i < n; i += GOSL_STRIDE)
    {
        integer due = llList2Integer(gosl_pending, i + 4);
        if (due != 0)
        {
            if (next == 0 || due < next)
            {
                next = due;
            }
        }
    }
    if (next == 0)
    {
        llSetTimerEvent(0.0);
    }
    else if (next <= now)
    {
        llSetTimerEvent(1.0);
    }
    else
    {
        llSetTimerEvent((float)(next - now));
    }
}

// The entry at index i failed with `status`: wait 2, 4, 8, 16 s and try again, or give up.
gosl_retry_or_fail(integer i, integer status)
{
    integer kind = llList2Integer(gosl_pending, i + 1);
    string asked = llList2String(gosl_pending, i + 2);
    integer retries = llList2Integer(gosl_pending, i + 3);
    gosl_pending = llDeleteSubList(gosl_pending, i, i + GOSL_STRIDE - 1);
    if (retries >= GOSL_MAX_RETRIES)
    {
        gosl_arm_timer();
        gosl_failed(asked, status);
        return;
    }
    gosl_pending += ["", kind, asked, retries + 1, llGetUnixTime() + (2 << retries)];
    gosl_arm_timer();
}

key gosl_lookup(integer kind, string asked)
{
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
        gosl_arm_timer();
    }
    else
    {
        gosl_pending += [(string)request, kind, asked, 0, 0];
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

// Index of the pending entry of a request key, or -1.
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

// Call from http_response; TRUE when the answer was one of the library's requests.
integer gosl_http_response(key request_id, integer status, string body)
{
    if (request_id == NULL_KEY)
    {
        return FALSE;
    }
    integer i = gosl_find((string)request_id);
    if (i == -1)
    {
        return FALSE;
    }
    if (status == 499 || status == 503 || status == 502 || status == 504)
    {
        gosl_retry_or_fail(i, status);
        return TRUE;
    }
    integer kind = llList2Integer(gosl_pending, i + 1);
    string asked = llList2String(gosl_pending, i + 2);
    gosl_pending = llDeleteSubList(gosl_pending, i, i + GOSL_STRIDE - 1);
    if (status != 200)
    {
        gosl_failed(asked, status);
        return TRUE;
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
        return TRUE;
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
    return TRUE;
}

// Call from timer: sends the retries that are due.
gosl_timer()
{
    integer now = llGetUnixTime();
    integer i = 0;
    while (i < llGetListLength(gosl_pending))
    {
        integer due = llList2Integer(gosl_pending, i + 4);
        if (due != 0 && due <= now)
        {
            integer kind = llList2Integer(gosl_pending, i + 1);
            string asked = llList2String(gosl_pending, i + 2);
            integer retries = llList2Integer(gosl_pending, i + 3);
            key request = gosl_send(kind, asked);
            if (request == NULL_KEY)
            {
                // Still throttled: moved to the end with a longer wait (or given up).
                gosl_retry_or_fail(i, 0);
            }
            else
            {
                gosl_pending = llListReplaceList(gosl_pending,
                    [(string)request, kind, asked, retries, 0], i, i + GOSL_STRIDE - 1);
                i += GOSL_STRIDE;
            }
        }
        else
        {
            i += GOSL_STRIDE;
        }
    }
    gosl_arm_timer();
}

// ============================== END OF LIBRARY ====================================

// An example: touch to look up your own key by your name, and the owner's name by key;
// then both names in one request.
default
{
    touch_start(integer count)
    {
        gosl_lookup_name(llDetectedName(0));
        gosl_lookup_key(llGetOwner());
        gosl_lookup_many([llDetectedName(0), llKey2Name(llGetOwner())]);
    }

    http_response(key request_id, integer status, list metadata, string body)
    {
        if (gosl_http_response(request_id, status, body))
        {
            return;
        }
        // ... your script's other HTTP requests here ...
    }

    timer()
    {
        gosl_timer();
    }
}
