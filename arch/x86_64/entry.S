/*
 * entry.S (x86_64) - every way into and out of the kernel:
 * the syscall entry, the interrupt/exception stubs, the kernel context
 * switch and the first entry of a new task into user mode.
 */

/* ---- syscall ---------------------------------------------------------------
 * User: rax = number, rdi rsi rdx r10 r8 = arguments; rcx = return rip and
 * r11 = rflags (set by the CPU). Everything but rax, rcx and r11 is
 * preserved. Interrupts are off on entry (SFMASK clears IF) and stay off in
 * the kernel. cpu_kstack_top is the current task's kernel stack top. */
.text
.global syscall_entry
syscall_entry:
    mov %rsp, cpu_user_rsp(%rip)
    mov cpu_kstack_top(%rip), %rsp
    pushq cpu_user_rsp(%rip)
    push %rcx
    push %r11
    push %rdi
    push %rsi
    push %rdx
    push %r10
    push %r8
    push %r9
    mov %r10, %rcx
    mov %rax, %r9
    call kernel_syscall
    pop %r9
    pop %r8
    pop %r10
    pop %rdx
    pop %rsi
    pop %rdi
    pop %r11
    pop %rcx
    pop %rsp
    sysretq

/* ---- interrupts and exceptions -------------------------------------------
 * Each vector pushes an error code (0 if the CPU does not) and its number,
 * then the common stub saves all registers as a struct int_frame and calls
 * x86_trap(frame). From user mode the CPU has already switched to TSS.rsp0. */
.macro VEC n, has_error
.global vec\n
vec\n:
    .if \has_error == 0
    pushq $0
    .endif
    pushq $\n
    jmp trap_common
.endm

VEC 0,0
VEC 1,0
VEC 2,0
VEC 3,0
VEC 4,0
VEC 5,0
VEC 6,0
VEC 7,0
VEC 8,1
VEC 9,0
VEC 10,1
VEC 11,1
VEC 12,1
VEC 13,1
VEC 14,1
VEC 15,0
VEC 16,0
VEC 17,1
VEC 18,0
VEC 19,0
VEC 20,0
VEC 21,1
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
VEC \n,0
.endr

/* The local APIC's spurious vector: no EOI, nothing to do. */
.global spurious_entry
spurious_entry:
    iretq

trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    call x86_trap
.global trap_return
trap_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector number and error code */
    iretq

.section .rodata
.global vector_table
vector_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21
    .quad vec\n
.endr
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad vec\n
.endr
.text

/* ---- context switch --------------------------------------------------------
 * x86_switch_stack(&prev_rsp, next_rsp): save callee-saved registers on the
 * current kernel stack, store rsp, load the next stack, restore, return. */
.global x86_switch_stack
x86_switch_stack:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* A new task's kernel stack holds a switch frame whose return address is
 * here, followed by an iretq frame into user mode; r12 = arg, r13 = msgbuf. */
.global user_first_entry
user_first_entry:
    mov %r12, %rdi
    mov %r13, %rsi
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    iretq

/* A kernel thread starts here with r12 = its function. */
.global kthread_first_entry
kthread_first_entry:
    call *%r12
1:  hlt
    jmp 1b
