/*
 * test_channel.c - channel objects and open/close/link/transfer, and
 * channel_move (kernel/channel.c), through kernel_syscall where a user
 * would go that way.
 */
#include "kt.h"

TEST(channel_open_returns_cids_from_2) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0);
    long c1 = kt_syscall(a, SYS_OPEN, 0, 0), c2 = kt_syscall(a, SYS_OPEN, 0, 0);
    CHECK_EQ(c1, BOOTSTRAP_CID);
    CHECK_EQ(c2, 3);
    struct channel *ch = kt_ch(a, c1);
    CHECK(ch->used);
    CHECK(ch->owner == a);
    CHECK_EQ(ch->cid, c1);
    CHECK(ch->transfer_to == ch);
    CHECK(ch->linked == NULL);
}

TEST(channel_open_reuses_lowest_free_cid_and_runs_out) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0);
    long n = 0, cid;
    while ((cid = channel_open(a)) >= 0)
        n++;
    CHECK_EQ(cid, -E_NOMEM);
    CHECK_EQ(n, CONFIG_TASK_CHANNELS - 2);
    CHECK(!channel_has_free_slot(a));
    CHECK_EQ(channel_close(a, 10), 0);
    CHECK(channel_has_free_slot(a));
    CHECK_EQ(channel_open(a), 10);
}

TEST(channel_open_fails_when_the_global_table_is_full) {
    kt_boot();
    struct task *t[5];
    long opened = 0, cid = 0;
    for (int i = 0; i < 5; i++)
        t[i] = kt_task("t", 3, 0);
    /* Each task runs out of cids (62) first; t[0]'s failed opens must not
     * leak channel objects, so all 256 end up in use. */
    for (int i = 0; i < 5; i++)
        while ((cid = channel_open(t[i])) >= 0)
            opened++;
    CHECK_EQ(cid, -E_NOMEM);
    CHECK_EQ(opened, CONFIG_MAX_CHANNELS);
    CHECK(channel_has_free_slot(t[4]));             /* the table is full */
    CHECK_EQ(channel_close(t[0], 2), 0);
    CHECK(channel_open(t[4]) >= 2);
    CHECK_EQ(channel_open(t[4]), -E_NOMEM);
}

TEST(channel_close_frees_the_cid) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0);
    long c = channel_open(a);
    struct channel *ch = kt_ch(a, c);
    CHECK_EQ(kt_syscall(a, SYS_CLOSE, c, 0), 0);
    CHECK(!ch->used);
    CHECK(channel_get(a, c) == NULL);
    CHECK_EQ(kt_syscall(a, SYS_CLOSE, c, 0), -E_BADCH);
}

TEST(channel_bad_cids_are_e_badch) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0);
    long c = channel_open(a);
    long bad[] = { -1, -100, 0, KERNEL_CID, 5, CONFIG_TASK_CHANNELS,
                   CONFIG_TASK_CHANNELS + 1, 1L << 40, (long)(~0ul >> 1),
                   (long)(1ul << 63) };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(kt_syscall(a, SYS_CLOSE, bad[i], 0), -E_BADCH);
        CHECK_EQ(kt_syscall(a, SYS_LINK, c, bad[i]), -E_BADCH);
        CHECK_EQ(kt_syscall(a, SYS_LINK, bad[i], c), -E_BADCH);
        CHECK_EQ(kt_syscall(a, SYS_TRANSFER, c, bad[i]), -E_BADCH);
        CHECK_EQ(kt_syscall(a, SYS_TRANSFER, bad[i], c), -E_BADCH);
        CHECK_EQ(kt_syscall(a, SYS_NOTIFY, bad[i], 1), -E_BADCH);
        if (bad[i] != KERNEL_CID)
            CHECK_EQ(kt_ipc(a, bad[i], IPC_SEND | IPC_NOBLOCK), -E_BADCH);
    }
    /* Another task's cid is not ours. */
    struct task *b = kt_task("b", 3, 0);
    CHECK_EQ(kt_syscall(b, SYS_CLOSE, c, 0), -E_BADCH);
}

TEST(channel_link_and_its_errors) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0);
    long x = channel_open(a), y = channel_open(a), z = channel_open(a);
    CHECK_EQ(kt_syscall(a, SYS_LINK, x, x), -E_LOOP);
    CHECK_EQ(kt_syscall(a, SYS_LINK, x, y), 0);
    CHECK(kt_ch(a, x)->linked == kt_ch(a, y));
    CHECK(kt_ch(a, y)->linked == kt_ch(a, x));
    CHECK_EQ(kt_syscall(a, SYS_LINK, x, z), -E_BUSY);
    CHECK_EQ(kt_syscall(a, SYS_LINK, z, y), -E_BUSY);
    CHECK_EQ(kt_syscall(a, SYS_LINK, x, y), -E_BUSY);
    CHECK(kt_ch(a, z)->linked == NULL);
    /* Closing one end unlinks the other, which can then be linked again. */
    CHECK_EQ(channel_close(a, x), 0);
    CHECK(kt_ch(a, y)->linked == NULL);
    CHECK_EQ(kt_syscall(a, SYS_LINK, y, z), 0);
}

TEST(channel_transfer_sets_target_and_refuses_self_cycle) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0);
    long x = channel_open(a), y = channel_open(a);
    CHECK_EQ(kt_syscall(a, SYS_TRANSFER, x, y), 0);
    CHECK(kt_ch(a, x)->transfer_to == kt_ch(a, y));
    CHECK_EQ(kt_syscall(a, SYS_TRANSFER, y, x), -E_LOOP);
    CHECK(kt_ch(a, y)->transfer_to == kt_ch(a, y));
}

TEST(channel_transfer_refuses_longer_cycles) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    long a = channel_open(t), b = channel_open(t), c = channel_open(t),
         d = channel_open(t);
    CHECK_EQ(channel_transfer(t, a, b), 0);
    CHECK_EQ(channel_transfer(t, b, c), 0);
    CHECK_EQ(channel_transfer(t, c, a), -E_LOOP);   /* a->b->c->a */
    CHECK_EQ(channel_transfer(t, c, b), -E_LOOP);   /* b->c->b */
    CHECK(kt_ch(t, c)->transfer_to == kt_ch(t, c));
    CHECK_EQ(channel_transfer(t, c, d), 0);
    CHECK_EQ(channel_transfer(t, d, a), -E_LOOP);   /* a->b->c->d->a */
    /* Redirecting an existing transfer elsewhere is fine. */
    CHECK_EQ(channel_transfer(t, a, d), 0);
    CHECK(kt_ch(t, a)->transfer_to == kt_ch(t, d));
}

/* KERNEL BUG: transfer(a, a) is meant to reset a's transfer (channel.c
 * allows dst == src explicitly), but while a transfers elsewhere the walk
 * meets src first and returns E_LOOP, so a transfer can never be undone. */
TEST(bug_channel_transfer_to_itself_resets_the_transfer) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    long a = channel_open(t), b = channel_open(t);
    CHECK_EQ(channel_transfer(t, a, a), 0);         /* a fresh channel */
    CHECK_EQ(channel_transfer(t, a, b), 0);
    CHECK_EQ(channel_transfer(t, a, a), 0);
    CHECK(kt_ch(t, a)->transfer_to == kt_ch(t, a));
}

TEST(channel_transfer_of_a_busy_channel_is_e_busy) {
    kt_boot();
    struct task *s = kt_task("s", 3, 0), *c = kt_task("c", 3, 0);
    long sc, cc;
    kt_connect(s, &sc, c, &cc);
    long other = channel_open(s);
    kt_ipc(s, sc, IPC_RECV);                /* s waits on sc */
    CHECK_EQ(channel_transfer(s, sc, other), -E_BUSY);
}

TEST(channel_close_of_target_resets_transfers_into_it) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    long a = channel_open(t), b = channel_open(t);
    CHECK_EQ(channel_transfer(t, a, b), 0);
    CHECK_EQ(channel_close(t, b), 0);
    CHECK(kt_ch(t, a)->transfer_to == kt_ch(t, a));
}

TEST(channel_move_gives_the_channel_to_another_task) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0), *b = kt_task("b", 3, 0);
    long x = channel_open(a), y = channel_open(a), z = channel_open(a);
    channel_open(b);                                /* b's cid 2 is taken */
    CHECK_EQ(channel_link(a, x, y), 0);
    CHECK_EQ(channel_transfer(a, z, y), 0);         /* into y */
    CHECK_EQ(channel_transfer(a, y, x), 0);         /* out of y */
    struct channel *ych = kt_ch(a, y);
    long ny = channel_move(ych, b);
    CHECK_EQ(ny, 3);
    CHECK(channel_get(a, y) == NULL);
    CHECK(channel_get(b, ny) == ych);
    CHECK(ych->owner == b);
    CHECK_EQ(ych->cid, ny);
    CHECK(ych->linked == kt_ch(a, x));              /* links survive */
    CHECK(ych->transfer_to == ych);                 /* transfers do not */
    /* chains are flattened: z followed y to x, and stays there */
    CHECK(kt_ch(a, z)->transfer_to == kt_ch(a, x));
}

TEST(channel_move_resets_transfers_into_the_moved_channel) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0), *b = kt_task("b", 3, 0);
    long y = channel_open(a), z = channel_open(a);
    CHECK_EQ(channel_transfer(a, z, y), 0);
    channel_move(kt_ch(a, y), b);
    CHECK(kt_ch(a, z)->transfer_to == kt_ch(a, z));
}

TEST(channel_transfer_chains_are_flattened) {
    kt_boot();
    struct task *t = kt_task("t", 3, 0);
    long a = channel_open(t), b = channel_open(t), c = channel_open(t);
    CHECK_EQ(channel_transfer(t, a, b), 0);
    CHECK_EQ(channel_transfer(t, b, c), 0);
    CHECK(kt_ch(t, a)->transfer_to == kt_ch(t, c));
    CHECK(kt_ch(t, b)->transfer_to == kt_ch(t, c));
    CHECK_EQ(channel_transfer(t, c, a), -E_LOOP);
}

TEST(channel_move_of_the_pager_channel_clears_pager) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0), *b = kt_task("b", 3, 0);
    long x = channel_open(a);
    a->pager = kt_ch(a, x);
    channel_move(kt_ch(a, x), b);
    CHECK(a->pager == NULL);
}

TEST(channel_close_all_on_task_kill_frees_every_channel) {
    kt_boot();
    struct task *a = kt_task("a", 3, 0), *b = kt_task("b", 3, 0);
    long ca, cb;
    kt_connect(a, &ca, b, &cb);
    long extra = channel_open(a);
    struct channel *ach = kt_ch(a, ca), *ech = kt_ch(a, extra);
    task_kill(a, TASK_STATE_KILLED, "test");
    CHECK(!ach->used && !ech->used);
    CHECK(kt_ch(b, cb)->linked == NULL);
    CHECK_EQ(a->state, TASK_STATE_KILLED);
    CHECK(host_console_contains("task 1 (a) killed: test"));
    CHECK_EQ(kt_ipc(b, cb, IPC_SEND | IPC_NOBLOCK), -E_CLOSED);
}
