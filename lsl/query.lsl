// query.lsl -- gosl-basics: look up an avatar's key from its name, or its name from its key.
//
// What it does
//   Touch the object: for the next 60 seconds it listens to you, and only you, on chat
//   channel 5. Say an avatar name (/5 Mini Resident, /5 mini, /5 legacy.linden) and it
//   answers the key; say a UUID (/5 6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40, any letter case)
//   and it answers the name. Answers come privately (llRegionSayTo), by instant message only
//   to someone who has left the region meanwhile. Each question restarts the 60 seconds; then
//   the listener is removed. Someone else touching it meanwhile is told it is in use and for
//   how long; a new user who asks while the previous user's answer is still on its way is
//   asked to wait a few seconds (the previous question is not repeated to them).
//
// The ONE line to edit
//   string SERVICE_URL = ...   -> the address of your gosl-basics.fcgi (https:// is fine).
//   Optional: CHANNEL below, if 5 clashes with another gadget of yours.
//
// Limits it touches
//   HTTP throttle: Second Life allows about 25 requests per 20 s per object (all scripts in
//     the linkset together). This script sends one request at a time and at most one per
//     second, and says so when llHTTPRequest refuses (returns NULL_KEY).
//   Answers are tiny (a UUID or a name), far below the 2048-byte default body limit; they are
//     trimmed (a W-Hat-style service may end them with a newline).
//   Second Life gives up on a request after 60 s and reports status 499; so does a wrong
//     URL, a bad TLS certificate or a space in the URL (names are sent through llEscapeURL).
//   Lost answers: Second Life does not always call http_response (the object changed region,
//     the region restarted). An answer missing after 70 s, or in flight when the object
//     changes region or teleports, is given up: the asker is told to ask again. It never
//     blocks later questions. A reset (and every rez) starts afresh.
//   llInstantMessage sleeps the script 2 s: it is used only for an asker no longer in the
//     region (llGetAgentSize is ZERO_VECTOR), the one way to reach them; llRegionSayTo
//     otherwise (no sleep).
//   Memory: a few hundred bytes of state; one listener, only while in use.
//
// W-Hat compatibility
//   It asks in the W-Hat / Go gosl-basics form (?name=... or ?key=..., compat answers:
//   a bare UUID, the null key for an unknown name, an empty body for an unknown key), so it
//   also works against the Go program. The service accepts W-Hat's old ?terse=1&name=...
//   requests too, so older scripts need no change.

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";

integer CHANNEL = 5;            // chat channel the toucher types on
float LISTEN_SECONDS = 60.0;    // how long the object listens after a touch or a question
integer ANSWER_WAIT = 70;       // seconds: Second Life answers 499 within 60 s, so an answer
                                // still missing after 70 s was lost

key gUser = NULL_KEY;           // who is using the object now
string gUserName = "";
integer gListen = 0;            // listen handle; 0 when not listening
integer gUntil = 0;             // unix time the listener is removed

key gRequest = NULL_KEY;        // the request in flight, NULL_KEY when none
key gAsker = NULL_KEY;          // who asked it (the answer goes there even after the window closed)
string gAsked = "";             // what was asked, for the answer
integer gByKey = FALSE;         // TRUE: asked a UUID, FALSE: asked a name
integer gSentAt = 0;            // unix time gRequest was sent
float gLastSent = -10.0;        // llGetTime() of the last request

// Privately and without delay to an avatar in the region (the owner too). One who left the
// region before the answer came is reached only by llInstantMessage, which sleeps the script
// 2 s: the price of not losing the answer.
tell(key who, string text)
{
    if (llGetAgentSize(who) != ZERO_VECTOR)
    {
        llRegionSayTo(who, 0, text);
    }
    else
    {
        llInstantMessage(who, text);
    }
}

idle()
{
    llSetText("Touch to look up an avatar's name or key", <1.0, 1.0, 1.0>, 1.0);
}

// One timer for two deadlines: the end of the listening window, and the answer's.
arm_timer()
{
    integer now = llGetUnixTime();
    integer next = 0;
    if (gListen != 0)
    {
        next = gUntil;
    }
    if (gRequest != NULL_KEY && (next == 0 || gSentAt + ANSWER_WAIT < next))
    {
        next = gSentAt + ANSWER_WAIT;
    }
    if (next == 0)
    {
        llSetTimerEvent(0.0);
    }
    else if (next - now < 1)
    {
        llSetTimerEvent(1.0);
    }
    else
    {
        llSetTimerEvent((float)(next - now));
    }
}

// The answer will not come (lost with a region change or restart): free the slot, tell the asker.
answer_lost()
{
    gRequest = NULL_KEY;
    tell(gAsker, "No answer came about '" + gAsked + "' (lost on the way); ask again.");
}

// Gives up an answer overdue; run before anything looks at gRequest.
expire_lost_answer()
{
    if (gRequest != NULL_KEY && llGetUnixTime() - gSentAt >= ANSWER_WAIT)
    {
        answer_lost();
    }
}

stop_listening()
{
    if (gListen != 0)
    {
        llListenRemove(gListen);
    }
    gListen = 0;
    gUser = NULL_KEY;
    gUserName = "";
    idle();
}

start_listening(key who, string name)
{
    if (gListen != 0)
    {
        llListenRemove(gListen);
    }
    gUser = who;
    gUserName = name;
    gListen = llListen(CHANNEL, "", who, "");
    gUntil = llGetUnixTime() + (integer)LISTEN_SECONDS;
    llSetText("In use by " + name, <1.0, 0.8, 0.2>, 1.0);
    tell(who, "Say /" + (string)CHANNEL + " followed by an avatar name (/" + (string)CHANNEL
        + " Mini Resident) or a UUID within " + (string)((integer)LISTEN_SECONDS)
        + " seconds; the answer comes to you privately.");
}

ask(string text)
{
    string url;
    string lower = llToLower(text);
    gByKey = FALSE;
    if ((key)lower)
    {
        // A UUID, typed in any letter case: lower-cased before the test and the request, as
        // Second Life writes keys; only [0-9a-f-], safe in a URL as it is.
        gByKey = TRUE;
        text = lower;
        url = SERVICE_URL + "?key=" + text;
    }
    else
    {
        // llEscapeURL: space -> %20, '.' -> %2E, UTF-8 -> %XX%XX; never '+'.
        url = SERVICE_URL + "?name=" + llEscapeURL(text);
    }
    gRequest = llHTTPRequest(url, [HTTP_METHOD, "GET", HTTP_VERBOSE_THROTTLE, FALSE], "");
    if (gRequest == NULL_KEY)
    {
        tell(gUser, "This object is sending too many web requests right now; ask again in a few seconds.");
        return;
    }
    gAsker = gUser;
    gAsked = text;
    gSentAt = llGetUnixTime();
    gLastSent = llGetTime();
}

answer(integer status, string body)
{
    if (status == 200)
    {
        if (gByKey)
        {
            if (body == "")
            {
                tell(gAsker, "No avatar with the key " + gAsked + " is known to the service.");
            }
            else
            {
                tell(gAsker, gAsked + " is " + body);
            }
        }
        else if (body == NULL_KEY)
        {
            tell(gAsker, "'" + gAsked + "' is not known to the service.");
        }
        else if ((key)body)
        {
            tell(gAsker, "The key of '" + gAsked + "' is " + body);
        }
        else
        {
            tell(gAsker, "Unexpected answer (is SERVICE_URL right?): " + llGetSubString(body, 0, 200));
        }
    }
    else if (status == 499)
    {
        tell(gAsker, "No answer from the service (499: timeout, TLS or address problem). Try again later.");
    }
    else if (status == 503)
    {
        tell(gAsker, "The service is busy (503); ask again in a few seconds.");
    }
    else if (status == 415)
    {
        tell(gAsker, "The service answered with a content type Second Life refuses (415): check SERVICE_URL.");
    }
    else if (status >= 400 && status < 500)
    {
        // 400/404: the service explains in one line (a malformed UUID, a name over 63 bytes...).
        tell(gAsker, "Refused (" + (string)status + "): " + llGetSubString(body, 0, 200));
    }
    else
    {
        tell(gAsker, "Error " + (string)status + ": " + llGetSubString(body, 0, 200));
    }
}

default
{
    state_entry()
    {
        stop_listening();
        arm_timer();
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
            // The answer in flight is lost with the move (or the restart).
            if (gRequest != NULL_KEY)
            {
                answer_lost();
            }
            arm_timer();
        }
    }

    touch_start(integer count)
    {
        expire_lost_answer();
        integer i;
        for (i = 0; i < count; ++i)
        {
            key who = llDetectedKey(i);
            if (gListen == 0 || who == gUser)
            {
                start_listening(who, llDetectedName(i));
            }
            else
            {
                integer wait = gUntil - llGetUnixTime();
                if (wait < 1)
                {
                    wait = 1;
                }
                llRegionSayTo(who, 0, "In use by " + gUserName + "; free in " + (string)wait + " s at most.");
            }
        }
        arm_timer();
    }

    listen(integer channel, string name, key id, string message)
    {
        if (id != gUser)
        {
            return;
        }
        expire_lost_answer();
        string text = llStringTrim(message, STRING_TRIM);
        // Each question gives the toucher another full window.
        gUntil = llGetUnixTime() + (integer)LISTEN_SECONDS;
        if (text == "")
        {
            tell(id, "Say /" + (string)CHANNEL + " followed by a name or a UUID.");
        }
        else if (text == NULL_KEY)
        {
            tell(id, "That is the null key: it belongs to no avatar.");
        }
        else if (gRequest != NULL_KEY && gAsker == id)
        {
            tell(id, "Still waiting for the answer about '" + gAsked + "'; ask again when it comes.");
        }
        else if (gRequest != NULL_KEY)
        {
            // The previous user's answer is on its way: their question stays theirs.
            tell(id, "One moment: the previous question is still being answered; ask again in a few seconds.");
        }
        else if (llGetTime() - gLastSent < 1.0)
        {
            tell(id, "One question a second, please; ask again.");
        }
        else
        {
            ask(text);
        }
        arm_timer();
    }

    http_response(key request_id, integer status, list metadata, string body)
    {
        if (request_id != gRequest)
        {
            return;  // not ours, or an answer already given up for lost
        }
        gRequest = NULL_KEY;
        // W-Hat-style services may end the answer with a newline.
        answer(status, llStringTrim(body, STRING_TRIM));
        arm_timer();
    }

    timer()
    {
        expire_lost_answer();
        if (gListen != 0 && llGetUnixTime() >= gUntil)
        {
            tell(gUser, "Stopped listening on channel " + (string)CHANNEL + "; touch again to ask more.");
            stop_listening();
        }
        arm_timer();
    }
}
