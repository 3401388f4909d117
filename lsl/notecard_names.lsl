// notecard_names.lsl -- gosl-basics: look up every name of a notecard, 50 at a time.
//
// What it does
//   Put a notecard named "names" in the object, one avatar name a line (a group roster, a
//   ban list, a visitor log; blank lines are skipped), then touch the object (owner only).
//   The script reads the notecard, asks the service for up to 50 names in ONE request
//   (names=, docs/api.md "Batch lookups") and tells the owner each name's key, in the
//   notecard's order, then the next 50: 500 names are 10 requests, not 500.
//
// The ONE line to edit
//   string SERVICE_URL = ...   -> the address of your gosl-basics.fcgi (https:// is fine).
//
// Limits it touches
//   HTTP throttle (~25 requests per 20 s per object): one request at a time.
//   A lost answer (a region restart; an attachment changing region): Second Life then never
//     calls http_response. A request unanswered after 70 s (LSL's own limit is 60 s, then
//     499), or in flight when the object changes region or teleports, is sent again at once;
//     one answered 499, 502, 503 or 504, or throttled, after 10 s; after 3 tries the batch is
//     reported as failed and the next one goes. A notecard line awaited then is asked again.
//   A reset (and every rez) starts afresh: touch the object again to read the notecard.
//   Answers: 50 keys a line each are ~1.9 KB, under the 2,048-byte default body limit.
//   Memory: one batch of names at a time (50 names of 63 bytes: ~6.4 KB in Mono).

string SERVICE_URL = "https://example.com/name2key/gosl-basics.fcgi";

string NOTECARD = "names";
integer BATCH = 50;          // names a request (the service takes 50 at most)
integer MAX_TRIES = 3;
float ANSWER_WAIT = 70.0;    // seconds before an unanswered request counts as lost
float RETRY_WAIT = 10.0;

integer gLine = 0;           // next notecard line to read
key gRead = NULL_KEY;        // the pending llGetNotecardLine, NULL_KEY when no line is awaited
list gNames = [];            // the batch being gathered or asked
key gRequest = NULL_KEY;     // the batch's request in flight
integer gTries = 0;
integer gDone = FALSE;       // the notecard's end was read

send_batch()
{
    gTries += 1;
    gRequest = llHTTPRequest(SERVICE_URL, [HTTP_METHOD, "POST",
        HTTP_MIMETYPE, "application/x-www-form-urlencoded", HTTP_VERBOSE_THROTTLE, FALSE],
        "names=" + llEscapeURL(llDumpList2String(gNames, "\n")));
    if (gRequest == NULL_KEY)
    {
        llSetTimerEvent(RETRY_WAIT);  // throttled: again in a while
    }
    else
    {
        llSetTimerEvent(ANSWER_WAIT);  // an answer may be lost: the timer is the deadline
    }
}

// The batch is answered (or given up): read on.
next_batch()
{
    gNames = [];
    gRequest = NULL_KEY;
    gTries = 0;
    llSetTimerEvent(0.0);
    if (gDone)
    {
        llOwnerSay("Done: " + (string)gLine + " notecard lines read.");
        return;
    }
    gRead = llGetNotecardLine(NOTECARD, gLine);
}

retry_or_give_up(string why)
{
    if (gTries >= MAX_TRIES)
    {
        llOwnerSay("Gave up on " + (string)llGetListLength(gNames) + " names (" + why + ").");
        next_batch();
        return;
    }
    gRequest = NULL_KEY;
    llSetTimerEvent(RETRY_WAIT);
}

// The batch goes again: its retry is due, or its answer will not come (overdue, or lost with
// a region change or restart).
send_again(string why)
{
    llSetTimerEvent(0.0);
    if (gRequest != NULL_KEY && gTries >= MAX_TRIES)
    {
        retry_or_give_up(why);
        return;
    }
    send_batch();
}

default
{
    on_rez(integer start_param)
    {
        llResetScript();
    }

    touch_start(integer count)
    {
        if (llDetectedKey(0) != llGetOwner())
        {
            return;
        }
        if (llGetInventoryType(NOTECARD) != INVENTORY_NOTECARD)
        {
            llOwnerSay("Add a notecard named '" + NOTECARD + "', one name a line.");
            return;
        }
        gLine = 0;
        gDone = FALSE;
        next_batch();
    }

    dataserver(key query, string data)
    {
        if (query != gRead)
        {
            return;
        }
        gRead = NULL_KEY;
        if (data == EOF)
        {
            gDone = TRUE;
        }
        else
        {
            gLine += 1;
            data = llStringTrim(data, STRING_TRIM);
            if (data != "")
            {
                gNames += [data];
            }
        }
        if (llGetListLength(gNames) >= BATCH || (gDone && gNames != []))
        {
            gTries = 0;
            send_batch();
        }
        else if (gDone)
        {
            next_batch();
        }
        else
        {
            gRead = llGetNotecardLine(NOTECARD, gLine);
        }
    }

    http_response(key request_id, integer status, list metadata, string body)
    {
        if (request_id != gRequest)
        {
            return;
        }
        if (status == 499 || status == 502 || status == 503 || status == 504)
        {
            retry_or_give_up("status " + (string)status);
            return;
        }
        if (status != 200)
        {
            llOwnerSay("The service refused the batch (" + (string)status + "): " + body);
            next_batch();
            return;
        }
        // A key a line, in the order asked; "! reason" for a name it refused.
        list keys = llParseStringKeepNulls(body, ["\n"], []);
        integer n = llGetListLength(gNames);
        integer i;
        for (i = 0; i < n; ++i)
        {
            string answer = llList2String(keys, i);
            if (answer == NULL_KEY)
            {
                answer = "not known";
            }
            llOwnerSay(llList2String(gNames, i) + ": " + answer);
        }
        next_batch();
    }

    timer()
    {
        // A retry is due, or the answer is overdue (lost): ask again.
        send_again("no answer");
    }

    changed(integer change)
    {
        if (change & CHANGED_INVENTORY)
        {
            gRead = NULL_KEY;  // a new notecard: touch again to read it
        }
        if (change & (CHANGED_REGION | CHANGED_TELEPORT | CHANGED_REGION_START))
        {
            // What was awaited is lost with the move (or the restart): ask for it again.
            if (gRequest != NULL_KEY)
            {
                send_again("no answer");
            }
            if (gRead != NULL_KEY)
            {
                gRead = llGetNotecardLine(NOTECARD, gLine);
            }
        }
    }
}
