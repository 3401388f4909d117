// touch.lsl -- gosl-basics: register whoever touches this object (name and key).
//
// What it does
//   Every avatar that touches the object is sent to the service as one registration,
//   ?name=<llDetectedName>&key=<llDetectedKey>; the service records the pair under the grid
//   Second Life names in the X-SecondLife-Shard header (Production, Testing; OpenSimulator
//   sends its own shard name). The toucher is thanked privately; the owner gets one short
//   line per registration ("registered Name"), or the reason when it failed.
//   Touching again while your registration is still waiting does nothing more.
//
// The line to edit (two with writes = token)
//   string SERVICE_URL = ...   -> the address of your gosl-basics.fcgi (https:// is fine).
//   string TOKEN = "";         -> only when the service has writes = token: its secret
//                                 (sent in the POST body, which Apache does not log).
//
// Limits it touches
//   HTTP throttle: Second Life allows about 25 requests per 20 s per object (all scripts in
//     the linkset together) and llHTTPRequest returns NULL_KEY past that. This script sends
//     at most one request per second, keeps at most 5 in flight, queues simultaneous
//     touchers (at most 20 waiting; more are asked to touch again later) and, when
//     throttled or when the service answers 499/502/503/504, tries the toucher again after
//     2 s, then 4 s (3 tries in all).
//   The answer ("Added new entry for ...") is far below the 2048-byte default body limit.
//   499 is what Second Life reports after 60 s without an answer (or on a TLS/address error).
//   Lost answers: Second Life does not always call http_response (the object changed region,
//     the region restarted). A request unanswered after 70 s, or in flight when the object
//     changes region or teleports, frees its place and is retried like a 499 (registering
//     twice is harmless); so a lost answer never keeps one of the 5 places for good. A reset
//     (and every rez) starts afresh with nobody queued.
//   Memory: a few short lists, bounded by the limits above.
//
// W-Hat compatibility
//   The Go program's touch.lsl sent the key as an HTML-escaped "&" (a parameter named
//   "amp;key"), so its registrations never carried the key; this one sends a real &key=.
//   The service still reads "amp;key" as "key" for copies of the old script in the wild.

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";
string TOKEN = "";             // writes = token only: the service's secret

integer MAX_WAITING = 20;       // touchers queued at most
integer MAX_IN_FLIGHT = 5;      // requests waiting for their answer at most
integer MAX_TRIES = 3;          // attempts per toucher
float INTERVAL = 1.0;           // seconds between two requests at least
integer ANSWER_WAIT = 70;       // seconds: Second Life answers 499 within 60 s, so an answer
                                // still missing after 70 s was lost
float WAIT_CHECK = 10.0;        // timer period while answers are awaited and nobody is queued

// Queue of touchers to register (parallel lists, oldest first).
list gNames = [];
list gKeys = [];                // keys as strings
list gTries = [];               // attempts already made
list gDue = [];                 // unix time before which the entry waits (retries)

// Requests in flight (parallel lists).
list gReqs = [];                // request keys as strings
list gReqNames = [];
list gReqKeys = [];
list gReqTries = [];
list gReqSent = [];             // unix time each was sent

float gLastSent = -10.0;        // llGetTime() of the last request

enqueue(string name, string id, integer tries, integer due)
{
    gNames += [name];
    gKeys += [id];
    gTries += [tries];
    gDue += [due];
}

dequeue(integer i)
{
    gNames = llDeleteSubList(gNames, i, i);
    gKeys = llDeleteSubList(gKeys, i, i);
    gTries = llDeleteSubList(gTries, i, i);
    gDue = llDeleteSubList(gDue, i, i);
}

// Failed attempt number `tries`: wait 2 s, then 4 s, and try again, or give up.
retry_or_give_up(string name, string id, integer tries, string why)
{
    if (tries >= MAX_TRIES)
    {
        llOwnerSay("Could not register " + name + ": " + why);
        llRegionSayTo((key)id, 0, "Sorry, the registration service is not answering; touch me again later.");
        return;
    }
    enqueue(name, id, tries, llGetUnixTime() + (2 << (tries - 1)));
}

forget_request(integer i)
{
    gReqs = llDeleteSubList(gReqs, i, i);
    gReqNames = llDeleteSubList(gReqNames, i, i);
    gReqKeys = llDeleteSubList(gReqKeys, i, i);
    gReqTries = llDeleteSubList(gReqTries, i, i);
    gReqSent = llDeleteSubList(gReqSent, i, i);
}

// Request i failed for a passing reason, or its answer will not come: its place is freed and
// the toucher is tried again (or given up).
retry_request(integer i, string why)
{
    string name = llList2String(gReqNames, i);
    string id = llList2String(gReqKeys, i);
    integer tries = llList2Integer(gReqTries, i);
    forget_request(i);
    retry_or_give_up(name, id, tries, why);
}

// Gives up the answers overdue, sends the first queued toucher that is due, at most one per
// INTERVAL, and keeps the timer running while anything is queued or awaited.
pump()
{
    integer now = llGetUnixTime();
    integer i = 0;
    while (i < llGetListLength(gReqs))
    {
        if (now - llList2Integer(gReqSent, i) >= ANSWER_WAIT)
        {
            retry_request(i, "no answer (lost)");
        }
        else
        {
            ++i;
        }
    }
    integer n = llGetListLength(gKeys);
    integer found = -1;
    for (i = 0; i < n; ++i)
    {
        if (found < 0 && llList2Integer(gDue, i) <= now)
        {
            found = i;
        }
    }
    if (found >= 0 && llGetListLength(gReqs) < MAX_IN_FLIGHT && llGetTime() - gLastSent >= INTERVAL)
    {
        string name = llList2String(gNames, found);
        string id = llList2String(gKeys, found);
        integer tries = llList2Integer(gTries, found) + 1;
        dequeue(found);
        gLastSent = llGetTime();
        key req;
        // lslint: TOKEN is the setting above: constant as shipped (""), set by the owner.
        if (TOKEN == "")
        {
            req = llHTTPRequest(SERVICE_URL + "?name=" + llEscapeURL(name) + "&key=" + id,
                [HTTP_METHOD, "GET", HTTP_VERBOSE_THROTTLE, FALSE], "");
        }
        else
        {
            // The secret goes in the body: Apache logs query strings.
            req = llHTTPRequest(SERVICE_URL, [HTTP_METHOD, "POST",
                HTTP_MIMETYPE, "application/x-www-form-urlencoded", HTTP_VERBOSE_THROTTLE, FALSE],
                "name=" + llEscapeURL(name) + "&key=" + id + "&token=" + llEscapeURL(TOKEN));
        }
        if (req == NULL_KEY)
        {
            retry_or_give_up(name, id, tries, "the object's HTTP requests are throttled");
        }
        else
        {
            gReqs += [(string)req];
            gReqNames += [name];
            gReqKeys += [id];
            gReqTries += [tries];
            gReqSent += [now];
        }
    }
    if (llGetListLength(gKeys) > 0)
    {
        llSetTimerEvent(INTERVAL);
    }
    else if (llGetListLength(gReqs) > 0)
    {
        llSetTimerEvent(WAIT_CHECK);  // only to notice an answer that never comes
    }
    else
    {
        llSetTimerEvent(0.0);
    }
}

default
{
    state_entry()
    {
        llSetText("Touch to register your avatar name and key", <1.0, 1.0, 1.0>, 1.0);
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
            // Every answer awaited is lost with the move (or the restart): try those touchers again.
            while (llGetListLength(gReqs) > 0)
            {
                retry_request(0, "its answer was lost (region change or restart)");
            }
            pump();
        }
    }

    touch_start(integer count)
    {
        integer i;
        for (i = 0; i < count; ++i)
        {
            string id = (string)llDetectedKey(i);
            string name = llDetectedName(i);
            if (llListFindList(gKeys, [id]) != -1 || llListFindList(gReqKeys, [id]) != -1)
            {
                llRegionSayTo((key)id, 0, "Your registration is on its way.");
            }
            else if (llGetListLength(gKeys) >= MAX_WAITING)
            {
                llRegionSayTo((key)id, 0, "Busy registering others; please touch me again in a minute.");
            }
            else
            {
                enqueue(name, id, 0, 0);
            }
        }
        pump();
    }

    http_response(key request_id, integer status, list metadata, string body)
    {
        integer i = llListFindList(gReqs, [(string)request_id]);
        if (i == -1)
        {
            return;
        }
        string name = llList2String(gReqNames, i);
        string id = llList2String(gReqKeys, i);
        if (status == 499 || status == 503 || status == 502 || status == 504)
        {
            retry_request(i, "status " + (string)status);
        }
        else if (status == 200 && llSubStringIndex(body, "Added new entry for ") == 0)
        {
            forget_request(i);
            llOwnerSay("registered " + name);
            llRegionSayTo((key)id, 0, "Thank you, " + name + ": your name and key are registered.");
        }
        else
        {
            forget_request(i);
            // 400 (the service says why in one line), or a 200 that is not this service's answer.
            llOwnerSay("Could not register " + name + " (" + (string)status + "): " + llGetSubString(body, 0, 200));
        }
        pump();
    }

    timer()
    {
        pump();
    }
}
