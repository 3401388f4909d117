/* fcgi_hello: the throughput ceiling for scripts/bench-apache.sh. A libfcgi
 * program that does nothing but answer every request with the headers
 * gosl-basics sends and a fixed 36-byte body (the size of a UUID answer), so
 * the gap between it and gosl-basics behind the same Apache is our own cost.
 *
 *   cc -O2 -o fcgi_hello.fcgi bench/fcgi_hello.c -lfcgi
 */
#include <fcgiapp.h>

static const char kReply[] =
    "Status: 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 36\r\n"
    "\r\n"
    "00000000-0000-0000-0000-000000000000";

int main(void) {
  FCGX_Request request;
  if (FCGX_Init() != 0 || FCGX_InitRequest(&request, 0, 0) != 0) return 1;
  while (FCGX_Accept_r(&request) >= 0) {
    FCGX_PutStr(kReply, (int)(sizeof(kReply) - 1), request.out);
    FCGX_Finish_r(&request);
  }
  return 0;
}
