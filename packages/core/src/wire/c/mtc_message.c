/*
 * mtc_message.c: the 1060-byte mtc_message_type packed the way the C daemons declare it
 * (reference mtce-core.md §1.4), used to round-trip bytes with the TypeScript codec.
 *
 *   mtc_message pack    stdin: one record per line, tab-separated
 *                       sig  mac  ver  rev  res  cmd  num  p0,p1,p2,p3,p4  buf
 *                       stdout: the truncated send (header + strlen(buf) + 1 bytes) as hex, one line each
 *   mtc_message unpack  stdin: hex datagrams, one per line
 *                       stdout: the same tab-separated record, read back through the struct
 *   mtc_message layout  prints sizeof and the field offsets
 *
 * Written for metal; it follows the public layout facts, not the original source.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_HEADER_SIZE 18 /* 17 signature characters and their NUL */
#define HDR_SIZE (128 - 4 * 8 - 2 * 2 - 28)
#define BUF_SIZE (1024 - HDR_SIZE)
#define MAX_PARMS 5

typedef struct __attribute__((packed)) {
  char hdr[HDR_SIZE];
  unsigned short ver;
  unsigned short rev;
  unsigned int res;
  unsigned int cmd;
  unsigned int num;
  unsigned int parm[MAX_PARMS];
  char buf[BUF_SIZE];
} mtc_message_type;

_Static_assert(HDR_SIZE == 64, "header is 64 bytes");
_Static_assert(sizeof(mtc_message_type) == 1060, "mtc_message_type is 1060 bytes");
_Static_assert(offsetof(mtc_message_type, ver) == 64, "ver at 64");
_Static_assert(offsetof(mtc_message_type, res) == 68, "res at 68");
_Static_assert(offsetof(mtc_message_type, cmd) == 72, "cmd at 72");
_Static_assert(offsetof(mtc_message_type, parm) == 80, "parm at 80");
_Static_assert(offsetof(mtc_message_type, buf) == 100, "buf at 100");

static char line[8192];

static char *field(char **cursor) {
  char *start = *cursor;
  char *tab = strchr(start, '\t');
  if (tab) {
    *tab = '\0';
    *cursor = tab + 1;
  } else {
    *cursor = start + strlen(start);
  }
  return start;
}

static int pack(void) {
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    char *cur = line;
    char *sig = field(&cur), *mac = field(&cur);
    mtc_message_type msg;
    memset(&msg, 0, sizeof msg);
    snprintf(&msg.hdr[0], MSG_HEADER_SIZE, "%s", sig);
    /* agent commands: the target's mgmt MAC at hdr[17] */
    if (*mac) snprintf(&msg.hdr[MSG_HEADER_SIZE - 1], HDR_SIZE - (MSG_HEADER_SIZE - 1), "%s", mac);
    msg.ver = (unsigned short)strtoul(field(&cur), NULL, 10);
    msg.rev = (unsigned short)strtoul(field(&cur), NULL, 10);
    msg.res = (unsigned int)strtoul(field(&cur), NULL, 10);
    msg.cmd = (unsigned int)strtoul(field(&cur), NULL, 10);
    msg.num = (unsigned int)strtoul(field(&cur), NULL, 10);
    char *parms = field(&cur);
    for (int i = 0; i < MAX_PARMS; i++) {
      msg.parm[i] = (unsigned int)strtoul(parms, &parms, 10);
      if (*parms == ',') parms++;
    }
    snprintf(msg.buf, BUF_SIZE, "%s", cur);
    size_t len = sizeof msg - BUF_SIZE + strlen(msg.buf) + 1;
    const unsigned char *bytes = (const unsigned char *)&msg;
    for (size_t i = 0; i < len; i++) printf("%02x", bytes[i]);
    printf("\n");
  }
  return 0;
}

static int unpack(void) {
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    mtc_message_type msg;
    memset(&msg, 0, sizeof msg);
    size_t n = strlen(line) / 2;
    if (n > sizeof msg) n = sizeof msg;
    unsigned char *bytes = (unsigned char *)&msg;
    for (size_t i = 0; i < n; i++) {
      unsigned int b;
      sscanf(&line[2 * i], "%2x", &b);
      bytes[i] = (unsigned char)b;
    }
    msg.buf[BUF_SIZE - 1] = '\0';
    msg.hdr[HDR_SIZE - 1] = '\0';
    printf("%.17s\t%s\t%u\t%u\t%u\t%u\t%u\t%u,%u,%u,%u,%u\t%s\n", msg.hdr, &msg.hdr[MSG_HEADER_SIZE - 1], msg.ver, msg.rev, msg.res, msg.cmd, msg.num,
           msg.parm[0], msg.parm[1], msg.parm[2], msg.parm[3], msg.parm[4], msg.buf);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "pack") == 0) return pack();
  if (argc == 2 && strcmp(argv[1], "unpack") == 0) return unpack();
  if (argc == 2 && strcmp(argv[1], "layout") == 0) {
    printf("sizeof=%zu ver=%zu rev=%zu res=%zu cmd=%zu num=%zu parm=%zu buf=%zu\n", sizeof(mtc_message_type), offsetof(mtc_message_type, ver),
           offsetof(mtc_message_type, rev), offsetof(mtc_message_type, res), offsetof(mtc_message_type, cmd), offsetof(mtc_message_type, num),
           offsetof(mtc_message_type, parm), offsetof(mtc_message_type, buf));
    return 0;
  }
  fprintf(stderr, "usage: mtc_message pack|unpack|layout\n");
  return 2;
}
