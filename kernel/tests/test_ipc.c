/*
 * test_ipc.c - message passing through sys_ipc()/ipc() (kernel/ipc.c).
 *
 * arch_switch does not switch on the host: a task that blocks returns to
 * the test at once, the test then runs the other task (kt_ipc makes it
 * current) and checks what the kernel left in both tasks.
 */
#include "kt.h"

static struct task *srv, *cli;
static long sc, cc;          /* srv's and cli's ends of one link */

static void setup(void) {
    kt_boot();
    srv = kt_task("srv", 2, 0);
    cli = kt_task("cli", 3, 0);
    kt_connect(srv, &sc, cli, &cc);
}

static void put(struct task *t, uint16_t label, const char *s, uint64_t arg) {
    kt_msg(t, label, s, (uint16_t)strlen(s));
    t->msgbuf->arg = arg;
}

TEST(ipc_send_to_waiting_receiver_copies_header_and_data) {
    setup();
    memset(srv->msgbuf->data, 0xee, MSG_INLINE_MAX);
    kt_ipc(srv, sc, IPC_RECV);
    CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);
    CHECK(kt_ch(srv, sc)->receiver == srv);
    CHECK(current != srv);

    put(cli, 0x42, "hello", 77);
    cli->msgbuf->channel = 1234;        /* ignored without MSG_CHANNEL */
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), 0);
    struct nagi_msg *m = srv->msgbuf;
    CHECK_EQ(m->label, 0x42);
    CHECK_EQ(m->len, 5);
    CHECK_EQ(m->flags, 0);
    CHECK_EQ(m->arg, 77);
    CHECK_EQ(m->from, sc);              /* the receiver's cid */
    CHECK_EQ(m->page, 0);
    CHECK(memcmp(m->data, "hello", 5) == 0);
    CHECK_EQ(m->data[5], 0xee);         /* only len bytes are copied */
    CHECK_EQ(srv->state, TASK_STATE_RUNNABLE);
    CHECK(srv->on_runqueue);
    CHECK_EQ(srv->ipc_result, 0);
    CHECK(kt_ch(srv, sc)->receiver == NULL);
    CHECK(srv->recv_on == NULL);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK(current == cli);
}

TEST(ipc_full_inline_payload_is_copied) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 1, NULL, MSG_INLINE_MAX);
    for (int i = 0; i < MSG_INLINE_MAX; i++)
        cli->msgbuf->data[i] = (uint8_t)(i * 7 + 1);
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), 0);
    CHECK_EQ(srv->msgbuf->len, MSG_INLINE_MAX);
    CHECK(memcmp(srv->msgbuf->data, cli->msgbuf->data, MSG_INLINE_MAX) == 0);
}

TEST(ipc_queued_sender_is_delivered_on_the_later_recv) {
    setup();
    put(cli, 7, "queued", 5);
    kt_ipc(cli, cc, IPC_SEND);
    CHECK_EQ(cli->state, TASK_STATE_BLOCKED_SEND);
    CHECK(kt_ch(srv, sc)->senders == cli);
    CHECK(cli->send_to == kt_ch(srv, sc));

    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV), 0);     /* does not block */
    CHECK_EQ(srv->state, TASK_STATE_RUNNABLE);
    CHECK(current == srv);
    CHECK_EQ(srv->msgbuf->label, 7);
    CHECK_EQ(srv->msgbuf->from, sc);
    CHECK(memcmp(srv->msgbuf->data, "queued", 6) == 0);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(cli->ipc_result, 0);
    CHECK(cli->send_to == NULL);
    CHECK(kt_ch(srv, sc)->senders == NULL);
    CHECK(kt_ch(srv, sc)->senders_tail == NULL);
}

/* A client that calls on a new channel before its server transferred it
 * to its listening channel (init answers the lookup as soon as the
 * server's INIT_CONNECT is queued): the transfer takes the queued callers
 * along, behind those already waiting there, and each is received on the
 * listening channel naming the channel it came in by. */
TEST(ipc_transfer_takes_senders_queued_on_the_channel_along) {
    setup();
    struct task *cli2 = kt_task("cli2", 3, 0);
    long sc2, cc2;
    kt_connect(srv, &sc2, cli2, &cc2);
    long listen = channel_open(srv);
    CHECK_EQ(channel_transfer(srv, sc2, listen), 0);
    put(cli2, 1, "first", 0);
    kt_ipc(cli2, cc2, IPC_SEND);                      /* queued on listen */
    put(cli, 2, "early call", 0);
    kt_ipc(cli, cc, IPC_CALL);                        /* queued on sc */
    REQUIRE(cli->state == TASK_STATE_BLOCKED_SEND);
    CHECK_EQ(channel_transfer(srv, sc, listen), 0);   /* was E_BUSY */
    CHECK(kt_ch(srv, sc)->senders == NULL && kt_ch(srv, sc)->senders_tail == NULL);
    CHECK(cli->send_to == kt_ch(srv, listen));
    CHECK_EQ(kt_ipc(srv, listen, IPC_RECV), 0);
    CHECK_EQ(srv->msgbuf->label, 1);
    CHECK_EQ(srv->msgbuf->from, sc2);
    CHECK_EQ(kt_ipc(srv, listen, IPC_RECV), 0);
    CHECK_EQ(srv->msgbuf->label, 2);
    CHECK_EQ(srv->msgbuf->from, sc);
    CHECK_EQ(cli->state, TASK_STATE_BLOCKED_RECV);    /* its call awaits the reply */
    put(srv, 3, "answer", 0);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), 0);
    CHECK_EQ(cli->msgbuf->label, 3);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
}

TEST(ipc_queued_senders_are_served_in_order_through_a_transfer) {
    setup();
    struct task *cli2 = kt_task("cli2", 3, 0);
    long sc2, cc2;
    kt_connect(srv, &sc2, cli2, &cc2);
    CHECK_EQ(channel_transfer(srv, sc2, sc), 0);    /* both arrive at sc */
    put(cli, 1, "first", 0);
    kt_ipc(cli, cc, IPC_SEND);
    put(cli2, 2, "second", 0);
    kt_ipc(cli2, cc2, IPC_SEND);
    CHECK(kt_ch(srv, sc)->senders == cli);
    CHECK(kt_ch(srv, sc)->senders_tail == cli2);

    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV), 0);
    CHECK_EQ(srv->msgbuf->label, 1);
    CHECK_EQ(srv->msgbuf->from, sc);
    CHECK_EQ(kt_ipc(srv, sc2, IPC_RECV), 0);         /* = receive on sc */
    CHECK_EQ(srv->msgbuf->label, 2);
    CHECK_EQ(srv->msgbuf->from, sc2);                /* the channel it came in by */
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(cli2->state, TASK_STATE_RUNNABLE);
}

TEST(ipc_call_then_reply_round_trip) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 0x10, "req", 1);
    kt_ipc(cli, cc, IPC_CALL);
    CHECK_EQ(cli->state, TASK_STATE_BLOCKED_RECV);
    CHECK(cli->awaiting_reply);
    CHECK(cli->call_via == kt_ch(cli, cc));
    CHECK(kt_ch(cli, cc)->receiver == cli);
    CHECK(current == srv);                           /* direct hand-off */
    CHECK_EQ(srv->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(srv->msgbuf->label, 0x10);
    CHECK_EQ(srv->msgbuf->from, sc);

    put(srv, 0x11, "reply!", 99);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), 0);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(cli->ipc_result, 0);
    CHECK(!cli->awaiting_reply);
    CHECK(kt_ch(cli, cc)->receiver == NULL);
    CHECK_EQ(cli->msgbuf->label, 0x11);
    CHECK_EQ(cli->msgbuf->arg, 99);
    CHECK_EQ(cli->msgbuf->from, cc);
    CHECK(memcmp(cli->msgbuf->data, "reply!", 6) == 0);
    /* The call is answered: a second reply has nobody to go to. */
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), -E_NOCALL);
}

TEST(ipc_queued_call_waits_for_its_reply_after_delivery) {
    setup();
    put(cli, 0x10, "req", 0);
    kt_ipc(cli, cc, IPC_CALL);                       /* srv not receiving */
    CHECK_EQ(cli->state, TASK_STATE_BLOCKED_SEND);
    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV), 0);
    CHECK_EQ(srv->msgbuf->label, 0x10);
    CHECK_EQ(cli->state, TASK_STATE_BLOCKED_RECV);
    CHECK(cli->awaiting_reply);
    CHECK(kt_ch(cli, cc)->receiver == cli);
    put(srv, 0x11, "", 5);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), 0);
    CHECK_EQ(cli->msgbuf->label, 0x11);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
}

static void serve_in_hook(struct task *prev, struct task *next) {
    CHECK(prev == cli);
    CHECK(next == srv);
    CHECK_EQ(srv->msgbuf->label, 0x20);
    put(srv, 0x21, "pong", 42);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), 0);
}

TEST(ipc_call_returns_the_reply_when_the_server_answers_at_once) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 0x20, "ping", 0);
    host_switch_hook = serve_in_hook;    /* srv runs "inside" the switch */
    cli->ipc_result = 12345;
    CHECK_EQ(kt_ipc(cli, cc, IPC_CALL), 0);
    CHECK_EQ(cli->msgbuf->label, 0x21);
    CHECK_EQ(cli->msgbuf->arg, 42);
    CHECK(memcmp(cli->msgbuf->data, "pong", 4) == 0);
}

TEST(ipc_reply_without_a_waiting_caller_is_e_nocall) {
    setup();
    put(srv, 1, "", 0);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), -E_NOCALL);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY | IPC_RECV), -E_NOCALL);
    CHECK(kt_ch(srv, sc)->receiver == NULL);         /* did not wait */
    /* A peer waiting in a plain receive is not waiting for a reply. */
    kt_ipc(cli, cc, IPC_RECV);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY), -E_NOCALL);
    CHECK_EQ(cli->state, TASK_STATE_BLOCKED_RECV);
}

TEST(ipc_inline_length_225_is_e_toobig) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 1, NULL, MSG_INLINE_MAX + 1);
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_TOOBIG);
    CHECK_EQ(kt_ipc(cli, cc, IPC_CALL), -E_TOOBIG);  /* fastpath declines */
    CHECK_EQ(kt_ipc(cli, KERNEL_CID, IPC_CALL), -E_TOOBIG);
    kt_msg(cli, 1, NULL, 0xffff);
    CHECK_EQ(kt_ipc(cli, cc, IPC_CALL), -E_TOOBIG);
    CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);   /* nothing delivered */
    CHECK(!cli->awaiting_reply);
}

TEST(ipc_on_an_unlinked_channel_is_e_closed) {
    setup();
    long lone = channel_open(cli);
    put(cli, 1, "x", 0);
    CHECK_EQ(kt_ipc(cli, lone, IPC_SEND), -E_CLOSED);
    CHECK_EQ(kt_ipc(cli, lone, IPC_CALL), -E_CLOSED);
    CHECK_EQ(kt_ipc(cli, lone, IPC_REPLY), -E_CLOSED);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, lone, 1), -E_CLOSED);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
}

TEST(ipc_after_the_peer_closed_is_e_closed) {
    setup();
    CHECK_EQ(kt_syscall(srv, SYS_CLOSE, sc, 0), 0);
    put(cli, 1, "x", 0);
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_CLOSED);
    CHECK_EQ(kt_ipc(cli, cc, IPC_CALL), -E_CLOSED);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 1), -E_CLOSED);
}

TEST(ipc_blocked_caller_is_woken_with_e_closed_when_the_peer_closes) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 1, "x", 0);
    kt_ipc(cli, cc, IPC_CALL);
    REQUIRE(cli->awaiting_reply);
    CHECK_EQ(kt_syscall(srv, SYS_CLOSE, sc, 0), 0);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(cli->ipc_result, -E_CLOSED);
    CHECK(!cli->awaiting_reply);
    CHECK(kt_ch(cli, cc)->receiver == NULL);
    CHECK(cli->on_runqueue);
}

TEST(ipc_queued_sender_is_woken_with_e_closed_when_the_peer_closes) {
    setup();
    put(cli, 1, "x", 0);
    kt_ipc(cli, cc, IPC_SEND);
    REQUIRE(cli->state == TASK_STATE_BLOCKED_SEND);
    CHECK_EQ(kt_syscall(srv, SYS_CLOSE, sc, 0), 0);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(cli->ipc_result, -E_CLOSED);
    CHECK(cli->send_to == NULL);
}

TEST(ipc_blocked_caller_is_woken_with_e_closed_when_the_server_dies) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    kt_ipc(cli, cc, IPC_CALL);
    task_kill(srv, TASK_STATE_KILLED, NULL);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(cli->ipc_result, -E_CLOSED);
}

TEST(ipc_noblock_is_e_wouldblock) {
    setup();
    put(cli, 1, "x", 0);
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND | IPC_NOBLOCK), -E_WOULDBLOCK);
    CHECK_EQ(kt_ipc(cli, cc, IPC_CALL | IPC_NOBLOCK), -E_WOULDBLOCK);
    CHECK(kt_ch(srv, sc)->senders == NULL);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK(!cli->awaiting_reply);
    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV | IPC_NOBLOCK), -E_WOULDBLOCK);
    CHECK(kt_ch(srv, sc)->receiver == NULL);
    CHECK_EQ(srv->state, TASK_STATE_RUNNABLE);
    /* With something there, NOBLOCK succeeds. */
    kt_ipc(srv, sc, IPC_RECV);
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND | IPC_NOBLOCK), 0);
    CHECK_EQ(srv->msgbuf->label, 1);
}

TEST(ipc_invalid_flags_are_e_inval) {
    setup();
    long bad[] = { 0, IPC_NOBLOCK, IPC_SEND | IPC_REPLY, IPC_CALL | IPC_REPLY,
                   0x10, IPC_SEND | 0x100, -1, 1L << 40 };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(kt_ipc(cli, cc, bad[i]), -E_INVAL);
        CHECK_EQ(kt_ipc(cli, KERNEL_CID, bad[i]), -E_INVAL);
    }
    /* The kernel server only answers calls. */
    CHECK_EQ(kt_ipc(cli, KERNEL_CID, IPC_SEND), -E_INVAL);
    CHECK_EQ(kt_ipc(cli, KERNEL_CID, IPC_RECV), -E_INVAL);
    /* Unknown message flags. */
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 1, NULL, 0);
    cli->msgbuf->flags = 0x4;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_INVAL);
    CHECK_EQ(kt_ipc(cli, cc, IPC_CALL), -E_INVAL);
    CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);
}

TEST(ipc_channel_payload_moves_the_channel) {
    setup();
    long p = channel_open(cli), q = channel_open(cli);
    CHECK_EQ(channel_link(cli, p, q), 0);
    struct channel *qch = kt_ch(cli, q);
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 3, NULL, 0);
    cli->msgbuf->flags = MSG_CHANNEL;
    cli->msgbuf->channel = (int32_t)q;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), 0);
    CHECK(channel_get(cli, q) == NULL);              /* sender lost it */
    struct nagi_msg *m = srv->msgbuf;
    CHECK_EQ(m->flags, MSG_CHANNEL);
    CHECK(m->channel >= 2);
    CHECK(m->channel != sc);
    CHECK(channel_get(srv, m->channel) == qch);     /* receiver got it */
    CHECK(qch->owner == srv);
    /* It still leads to cli's p: cli now reaches srv through p. */
    long nq = m->channel;
    kt_ipc(srv, nq, IPC_RECV);
    put(cli, 4, "via p", 0);
    CHECK_EQ(kt_ipc(cli, p, IPC_SEND), 0);
    CHECK_EQ(srv->msgbuf->label, 4);
    CHECK_EQ(srv->msgbuf->from, nq);
}

TEST(ipc_channel_payload_errors) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 3, NULL, 0);
    cli->msgbuf->flags = MSG_CHANNEL;
    cli->msgbuf->channel = 40;                       /* not open */
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_BADCH);
    cli->msgbuf->channel = -3;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_BADCH);
    cli->msgbuf->channel = (int32_t)cc;              /* the one sent through */
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_INVAL);
    CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);
    CHECK(channel_get(cli, cc) != NULL);
}

TEST(ipc_channel_payload_to_a_full_receiver_is_e_nomem) {
    setup();
    while (channel_open(srv) >= 0)
        ;
    long p = channel_open(cli);
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 3, NULL, 0);
    cli->msgbuf->flags = MSG_CHANNEL;
    cli->msgbuf->channel = (int32_t)p;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_NOMEM);
    CHECK(channel_get(cli, p) != NULL);              /* kept by the sender */
    CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);
}

TEST(ipc_page_payload_moves_the_mapping) {
    setup();
    REQUIRE(task_map_new_page(cli, ARCH_HEAP_BASE, VM_WRITE) == 0);
    REQUIRE(task_map_new_page(cli, ARCH_HEAP_BASE + PAGE_SIZE, VM_WRITE) == 0);
    uint8_t *bytes = kt_uptr(cli, ARCH_HEAP_BASE);
    memset(bytes, 0x5a, PAGE_SIZE);
    uint64_t cpages = cli->pages, spages = srv->pages;

    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 5, NULL, 0);
    cli->msgbuf->flags = MSG_PAGE;
    cli->msgbuf->page = ARCH_HEAP_BASE;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), 0);
    CHECK(kt_uptr(cli, ARCH_HEAP_BASE) == NULL);     /* moved, not shared */
    CHECK_EQ(srv->msgbuf->flags, MSG_PAGE);
    CHECK_EQ(srv->msgbuf->page, ARCH_PAGE_RECV_BASE);
    CHECK(kt_uptr(srv, ARCH_PAGE_RECV_BASE) == bytes);
    CHECK_EQ(bytes[123], 0x5a);
    CHECK_EQ(cli->pages, cpages - 1);
    CHECK_EQ(srv->pages, spages + 1);

    /* The next page lands in the next slot. */
    kt_ipc(srv, sc, IPC_RECV);
    cli->msgbuf->page = ARCH_HEAP_BASE + PAGE_SIZE;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), 0);
    CHECK_EQ(srv->msgbuf->page, ARCH_PAGE_RECV_BASE + PAGE_SIZE);
    /* A message without a page says page 0. */
    kt_ipc(srv, sc, IPC_RECV);
    kt_msg(cli, 6, NULL, 0);
    cli->msgbuf->page = ARCH_HEAP_BASE;
    CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), 0);
    CHECK_EQ(srv->msgbuf->page, 0);
}

TEST(ipc_page_payload_errors_are_e_fault) {
    setup();
    REQUIRE(task_map_new_page(cli, ARCH_HEAP_BASE, VM_WRITE) == 0);
    kt_ipc(srv, sc, IPC_RECV);
    uint64_t bad[] = { ARCH_HEAP_BASE + 8, ARCH_HEAP_BASE + PAGE_SIZE, 0,
                       ARCH_MSGBUF_ADDR, (uint64_t)(uintptr_t)srv->msgbuf,
                       ARCH_USER_END };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        kt_msg(cli, 5, NULL, 0);
        cli->msgbuf->flags = MSG_PAGE;
        cli->msgbuf->page = bad[i];
        CHECK_EQ(kt_ipc(cli, cc, IPC_SEND), -E_FAULT);
    }
    CHECK(kt_uptr(cli, ARCH_MSGBUF_ADDR) != NULL);
    CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);
}

TEST(ipc_notify_bits_accumulate_and_are_delivered_once) {
    setup();
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 0x100), 0);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 0x200), 0);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 0x100), 0);
    CHECK_EQ(kt_ch(srv, sc)->notifications, 0x300);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);       /* never blocks */

    memset(srv->msgbuf, 0xee, MSG_SIZE);
    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV), 0);
    struct nagi_msg *m = srv->msgbuf;
    CHECK_EQ(m->label, LABEL_NOTIFICATION);
    CHECK_EQ(m->arg, 0x300);
    CHECK_EQ(m->len, 0);
    CHECK_EQ(m->flags, 0);
    CHECK_EQ(m->from, sc);
    CHECK_EQ(kt_ch(srv, sc)->notifications, 0);
    /* Delivered once: the next receive waits. */
    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV | IPC_NOBLOCK), -E_WOULDBLOCK);
}

TEST(ipc_notify_wakes_a_waiting_receiver_at_once) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 0x400), 0);
    CHECK_EQ(srv->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(srv->ipc_result, 0);
    CHECK_EQ(srv->msgbuf->label, LABEL_NOTIFICATION);
    CHECK_EQ(srv->msgbuf->arg, 0x400);
    CHECK_EQ(kt_ch(srv, sc)->notifications, 0);
    CHECK(kt_ch(srv, sc)->receiver == NULL);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 0), -E_INVAL);
}

TEST(ipc_notify_waits_while_the_receiver_awaits_a_reply) {
    setup();
    /* srv calls cli (roles swapped): srv awaits a reply on sc. */
    kt_ipc(cli, cc, IPC_RECV);
    kt_msg(srv, 1, NULL, 0);
    kt_ipc(srv, sc, IPC_CALL);
    REQUIRE(srv->awaiting_reply);
    CHECK_EQ(kt_syscall(cli, SYS_NOTIFY, cc, 0x800), 0);
    CHECK(srv->awaiting_reply);                      /* not disturbed */
    CHECK_EQ(kt_ch(srv, sc)->notifications, 0x800);
    kt_msg(cli, 2, NULL, 0);
    CHECK_EQ(kt_ipc(cli, cc, IPC_REPLY), 0);
    CHECK_EQ(srv->msgbuf->label, 2);                 /* the reply, not the bits */
    CHECK_EQ(kt_ipc(srv, sc, IPC_RECV), 0);
    CHECK_EQ(srv->msgbuf->label, LABEL_NOTIFICATION);
    CHECK_EQ(srv->msgbuf->arg, 0x800);
}

TEST(ipc_reply_recv_replies_then_takes_the_next_queued_sender) {
    setup();
    struct task *cli2 = kt_task("cli2", 3, 0);
    long sc2, cc2;
    kt_connect(srv, &sc2, cli2, &cc2);
    CHECK_EQ(channel_transfer(srv, sc2, sc), 0);
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 1, "call", 0);
    kt_ipc(cli, cc, IPC_CALL);
    put(cli2, 2, "send", 0);
    kt_ipc(cli2, cc2, IPC_SEND);                      /* queued: srv busy */
    REQUIRE(cli2->state == TASK_STATE_BLOCKED_SEND);
    put(srv, 3, "answer", 0);
    CHECK_EQ(kt_ipc(srv, sc, IPC_REPLY | IPC_RECV), 0);
    CHECK_EQ(cli->msgbuf->label, 3);
    CHECK_EQ(cli->state, TASK_STATE_RUNNABLE);
    CHECK_EQ(srv->msgbuf->label, 2);
    CHECK_EQ(srv->msgbuf->from, sc2);
    CHECK_EQ(cli2->state, TASK_STATE_RUNNABLE);
}

/* ---- fastpath vs slow path ------------------------------------------------ */

struct snapshot {
    struct nagi_msg rmsg;
    int cstate, sstate;
    bool cawait, sawait;
    long sresult;
    bool c_is_receiver, s_is_receiver, current_is_srv;
    bool c_queued;
};

static void snap(struct snapshot *s) {
    memcpy(&s->rmsg, srv->msgbuf, sizeof(s->rmsg));
    s->cstate = cli->state;
    s->sstate = srv->state;
    s->cawait = cli->awaiting_reply;
    s->sawait = srv->awaiting_reply;
    s->sresult = srv->ipc_result;
    s->c_is_receiver = kt_ch(cli, cc)->receiver == cli && cli->recv_on == kt_ch(cli, cc);
    s->s_is_receiver = kt_ch(srv, sc)->receiver == srv;
    s->current_is_srv = current == srv;
    s->c_queued = cli->on_runqueue;
}

static void check_same(const struct snapshot *a, const struct snapshot *b) {
    CHECK(memcmp(&a->rmsg, &b->rmsg, MSG_HEADER_SIZE + a->rmsg.len) == 0);
    CHECK_EQ(a->rmsg.from, b->rmsg.from);
    CHECK_EQ(a->cstate, b->cstate);
    CHECK_EQ(a->sstate, b->sstate);
    CHECK_EQ(a->cawait, b->cawait);
    CHECK_EQ(a->sawait, b->sawait);
    CHECK_EQ(a->sresult, b->sresult);
    CHECK_EQ(a->c_is_receiver, b->c_is_receiver);
    CHECK_EQ(a->s_is_receiver, b->s_is_receiver);
    CHECK_EQ(a->current_is_srv, b->current_is_srv);
    CHECK_EQ(a->c_queued, b->c_queued);
}

/* Run a CALL from cli to a waiting srv: fast (sys_ipc) or slow (ipc()). */
static void call_once(bool fast, struct snapshot *s) {
    setup();
    memset(srv->msgbuf, 0xcc, MSG_SIZE);
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 0x77, "fast or slow", 0xabcdef);
    kt_run(cli);
    if (fast)
        sys_ipc(cc, IPC_CALL);
    else
        ipc(cli, kt_ch(cli, cc), IPC_CALL);
    snap(s);
}

TEST(ipc_fastpath_refuses_kernel_labels_as_the_slow_path_does) {
    const uint16_t labels[] = { LABEL_NOTIFICATION, LABEL_PAGE_FAULT, 0xffff };
    for (unsigned i = 0; i < ARRAY_SIZE(labels); i++) {
        setup();
        kt_ipc(srv, sc, IPC_RECV);            /* waiting: the fastpath's case */
        put(cli, labels[i], "forged", 0);
        kt_run(cli);
        CHECK_EQ(sys_ipc(cc, IPC_CALL), -E_INVAL);
        CHECK_EQ(srv->state, TASK_STATE_BLOCKED_RECV);   /* nothing delivered */
        put(srv, labels[i], "forged", 0);
        kt_run(srv);
        CHECK_EQ(sys_ipc(sc, IPC_REPLY | IPC_RECV), -E_INVAL);
    }
}

TEST(ipc_fastpath_call_matches_the_slow_path) {
    struct snapshot fast, slow;
    call_once(true, &fast);
    call_once(false, &slow);
    CHECK_EQ(fast.rmsg.label, 0x77);
    CHECK_EQ(fast.rmsg.from, sc);
    CHECK_EQ(fast.rmsg.arg, 0xabcdef);
    CHECK(memcmp(fast.rmsg.data, "fast or slow", 12) == 0);
    CHECK_EQ(fast.cstate, TASK_STATE_BLOCKED_RECV);
    CHECK(fast.cawait);
    CHECK(fast.c_is_receiver);
    CHECK(fast.current_is_srv);
    check_same(&fast, &slow);
}

/* srv answers cli's call with REPLY|RECV: fast (sys_ipc) or slow. */
static void reply_recv_once(bool fast, struct snapshot *s) {
    setup();
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 1, "q", 0);
    kt_ipc(cli, cc, IPC_CALL);
    memset(cli->msgbuf, 0xcc, MSG_SIZE);
    put(srv, 0x78, "answer", 7);
    kt_run(srv);
    if (fast)
        sys_ipc(sc, IPC_REPLY | IPC_RECV);
    else
        ipc(srv, kt_ch(srv, sc), IPC_REPLY | IPC_RECV);
    snap(s);
    memcpy(&s->rmsg, cli->msgbuf, sizeof(s->rmsg));   /* the reply */
}

TEST(ipc_fastpath_reply_recv_matches_the_slow_path) {
    struct snapshot fast, slow;
    reply_recv_once(true, &fast);
    reply_recv_once(false, &slow);
    CHECK_EQ(fast.rmsg.label, 0x78);
    CHECK_EQ(fast.rmsg.from, cc);
    CHECK_EQ(fast.rmsg.page, 0);
    CHECK_EQ(fast.cstate, TASK_STATE_RUNNABLE);
    CHECK(!fast.cawait);
    CHECK_EQ(fast.sstate, TASK_STATE_BLOCKED_RECV);
    CHECK(fast.s_is_receiver);
    check_same(&fast, &slow);
}

/* ---- counters (KS_IPC_INFO) ------------------------------------------------- */

/* Each path counts what it delivered, once: a fastpath call and its
 * fastpath reply, a slow-path call, a notification, a kernel call; the
 * reply to KS_IPC_INFO says messages = slow + fast. */
TEST(ipc_counters_count_each_delivery_once) {
    setup();
    struct ipc_counts a = ipc_counts;
    kt_ipc(srv, sc, IPC_RECV);
    put(cli, 1, "q", 0);
    kt_run(cli);
    CHECK_EQ(sys_ipc(cc, IPC_CALL), 0);               /* fast: srv waits */
    put(srv, 2, "a", 0);
    kt_run(srv);
    sys_ipc(sc, IPC_REPLY | IPC_RECV);                /* fast reply */
    CHECK_EQ(ipc_counts.fastpath - a.fastpath, 2);
    CHECK_EQ(ipc_counts.messages - a.messages, 0);
    put(cli, 3, "q", 0);
    ipc(cli, kt_ch(cli, cc), IPC_SEND | IPC_NOBLOCK); /* slow: srv waits, delivered */
    CHECK_EQ(ipc_counts.messages - a.messages, 1);
    kt_ipc(srv, sc, IPC_RECV);
    CHECK_EQ(ipc_notify(kt_ch(cli, cc)->linked->transfer_to, 4), 0);
    CHECK_EQ(ipc_counts.notifications - a.notifications, 1);
    struct ipc_counts b = ipc_counts;
    CHECK_EQ(kt_kcall(cli, KS_IPC_INFO, NULL, 0), 0);
    struct ks_ipc_info got;
    CHECK_EQ(cli->msgbuf->len, sizeof(got));
    memcpy(&got, cli->msgbuf->data, sizeof(got));
    CHECK_EQ(got.kernel_calls, b.kernel_calls + 1);
    CHECK_EQ(got.fastpath, b.fastpath);
    CHECK_EQ(got.messages, (uint64_t)b.messages + b.fastpath);
    CHECK_EQ(got.notifications, b.notifications);
}

/* ---- kernel bugs ------------------------------------------------------------ */

/* KERNEL BUG: a sender queued on a transfer target keeps send_via = the
 * channel it came in by. channel_move() resets the transfer but leaves the
 * sender queued on the old owner's target, so the old owner still receives
 * the message with .from = the moved channel's cid in the NEW owner's
 * table; here that number is one of the receiver's own, unrelated cids. */
TEST(bug_ipc_queued_message_from_a_moved_channel_names_a_foreign_cid) {
    setup();
    struct task *other = kt_task("other", 3, 0);
    long hub = channel_open(srv);                     /* srv receives here */
    CHECK_EQ(channel_transfer(srv, sc, hub), 0);
    put(cli, 9, "x", 0);
    kt_ipc(cli, cc, IPC_SEND);                        /* queued on hub via sc */
    REQUIRE(cli->state == TASK_STATE_BLOCKED_SEND);
    long moved = channel_move(kt_ch(srv, sc), other); /* sc leaves srv */
    long reused = channel_open(srv);                  /* srv's old sc number */
    CHECK_EQ(moved, reused);                          /* both are cid 2 */
    srv->msgbuf->from = -1;
    kt_ipc(srv, hub, IPC_RECV | IPC_NOBLOCK);
    /* Either the message followed the channel (srv gets nothing) or it is
     * reported as arriving at hub; never as "from" srv's unrelated cid. */
    CHECK(srv->msgbuf->from != reused);
}
