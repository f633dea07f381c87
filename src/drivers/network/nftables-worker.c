/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nftables-worker.c: a network's firewall rules, in an nftables table of
 * its own ("virtsup_" NAME, family ip), installed through libnftables in
 * one transaction: the table appears with all its rules or not at all,
 * and removing the table removes exactly them. No other table is read or
 * touched.
 *
 * The rules follow libvirt's for the same forward modes:
 *  - every mode: traffic between the bridge's own ports is accepted, any
 *    other forwarded traffic entering or leaving the bridge is rejected
 *    unless a rule below accepts it;
 *  - nat: the subnet may go out (through the forward device only, when
 *    one is named), replies come back; it is masqueraded behind the host,
 *    TCP and UDP to the NAT port range, except multicast to 224.0.0.0/24
 *    and the limited broadcast;
 *  - route: the subnet may go out and be reached, without NAT;
 *  - isolated: nothing else.
 * Protocols are written as numbers: the worker has no /etc/protocols.
 *
 * Worker only. libnftables is linked into nothing: the spawn helpers of
 * the profiles that ask for it (VIR_SUP_LIB_NFTABLES) load it with dlopen
 * before their sandbox is entered (netNftPreload), so no other helper or
 * worker maps it and its five dependencies (docs/WORKER.md, "Libraries
 * loaded per sandbox").
 */
#include <nftables/libnftables.h>
#include <stdio.h>

#include "util/viralloc.h"
#include "util/virdl.h"
#include "util/virstring.h"
#include "util/workerproto.h"
#define VIR_FROM_THIS VIR_FROM_NETWORK
#include "util/virerror.h"
#include "drivers/network/network-worker.h"

char *netNftRules(const netDef *def, const char *table, const char *owner)
{
    virBuffer b = VIR_BUFFER_INIT;
    const char *br = def->bridge, *dev = def->forwardDev;
    char net[16], ipnet[40] = "", in[40] = "", out[40] = "";
    uint32_t mask = netMaskOf(def->prefix);

    if (def->ipv4)
        snprintf(ipnet, sizeof(ipnet), "%s/%u",
                 netIPv4Format(def->ipv4 & mask, net), def->prefix);
    if (dev[0]) {
        snprintf(in, sizeof(in), "iifname \"%s\" ", dev);
        snprintf(out, sizeof(out), "oifname \"%s\" ", dev);
    }

    /* "create" fails if the table exists: never add to someone else's.
     * The owner mark goes with it (a comment given later would not be
     * set on a table that exists). */
    virBufferAddf(&b, "create table ip %s", table);
    if (owner)
        virBufferAddf(&b, " { comment \"%s\"; }", owner);
    virBufferAddf(&b, "\n");
    virBufferAddf(&b, "table ip %s {\n", table);
    virBufferAddf(&b, "  chain forward {\n"
             "    type filter hook forward priority filter; policy accept;\n");
    virBufferAddf(&b, "    iifname \"%s\" oifname \"%s\" accept\n", br, br);
    if (def->forward == NET_FORWARD_NAT) {
        virBufferAddf(&b, "    %soifname \"%s\" ip daddr %s ct state established,related accept\n",
             in, br, ipnet);
        virBufferAddf(&b, "    iifname \"%s\" %sip saddr %s accept\n", br, out, ipnet);
    } else if (def->forward == NET_FORWARD_ROUTE) {
        virBufferAddf(&b, "    %soifname \"%s\" ip daddr %s accept\n", in, br, ipnet);
        virBufferAddf(&b, "    iifname \"%s\" %sip saddr %s accept\n", br, out, ipnet);
    }
    virBufferAddf(&b, "    iifname \"%s\" reject\n", br);
    virBufferAddf(&b, "    oifname \"%s\" reject\n", br);
    virBufferAddf(&b, "  }\n");
    if (def->forward == NET_FORWARD_NAT) {
        virBufferAddf(&b, "  chain postrouting {\n"
                 "    type nat hook postrouting priority srcnat; policy accept;\n");
        virBufferAddf(&b, "    ip saddr %s ip daddr 224.0.0.0/24 return\n", ipnet);
        virBufferAddf(&b, "    ip saddr %s ip daddr 255.255.255.255 return\n", ipnet);
        for (int proto = 6; proto <= 17; proto += 11)   /* TCP, UDP */
            virBufferAddf(&b, "    %smeta l4proto %d ip saddr %s ip daddr != %s masquerade to :%u-%u\n",
                 out, proto, ipnet, ipnet, def->natPortStart, def->natPortEnd);
        virBufferAddf(&b, "    %sip saddr %s ip daddr != %s masquerade\n", out, ipnet, ipnet);
        virBufferAddf(&b, "  }\n");
    }
    virBufferAddf(&b, "}\n");
    return virBufferFinish(&b);
}

/* The calls of libnftables this file makes, once loaded. */
static struct {
    void *lib;
    __typeof__(nft_ctx_new) *ctxNew;
    __typeof__(nft_ctx_free) *ctxFree;
    __typeof__(nft_ctx_buffer_output) *bufferOutput;
    __typeof__(nft_ctx_buffer_error) *bufferError;
    __typeof__(nft_ctx_get_error_buffer) *errorBuffer;
    __typeof__(nft_run_cmd_from_buffer) *runCmd;
    char why[200];            /* why it is not loaded; "" before a try */
} nft;

#define NFT_SONAME "libnftables.so.1"

int netNftPreload(void)
{
#define NFT_SYM(field, name) { name, (void **)&nft.field }
    static const virDLSym syms[] = {
        NFT_SYM(ctxNew, "nft_ctx_new"),
        NFT_SYM(ctxFree, "nft_ctx_free"),
        NFT_SYM(bufferOutput, "nft_ctx_buffer_output"),
        NFT_SYM(bufferError, "nft_ctx_buffer_error"),
        NFT_SYM(errorBuffer, "nft_ctx_get_error_buffer"),
        NFT_SYM(runCmd, "nft_run_cmd_from_buffer"),
    };
#undef NFT_SYM

    if (!nft.lib)
        nft.lib = virDLLoad(NFT_SONAME, syms, ARRAY_CARDINALITY(syms), nft.why, sizeof(nft.why));
    return nft.lib ? 0 : -1;
}
#ifdef VIRTSUP_WORKER
VIR_WORKER_PRELOAD_REGISTER(netNftPreloadDef, VIR_PROTO_LIB_NFTABLES, netNftPreload);
#endif

/* The first line of nft's error text, for a message. */
static void firstLine(const char *text, char *out, size_t len)
{
    size_t n = 0;
    while (text && text[n] && text[n] != '\n' && n + 1 < len) {
        out[n] = text[n];
        n++;
    }
    out[n] = '\0';
}

int netNftRun(const char *cmds, const char *what)
{
    struct nft_ctx *ctx;
    char msg[256];
    int rc;

    if (!nft.lib) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s: nftables is not available in this "
                       "worker: %s", what, nft.why[0] ? nft.why :
                       "only the workers of profiles that ask for it "
                       "(VIR_SUP_LIB_NFTABLES) load " NFT_SONAME);
        return -1;
    }
    if (!(ctx = nft.ctxNew(NFT_CTX_DEFAULT))) {
        virReportOOMError();
        return -1;
    }
    /* Nothing on the worker's (closed) standard streams. */
    if (nft.bufferOutput(ctx) < 0 || nft.bufferError(ctx) < 0) {
        nft.ctxFree(ctx);
        virReportOOMError();
        return -1;
    }
    rc = nft.runCmd(ctx, cmds);
    if (rc != 0) {
        const char *err = nft.errorBuffer(ctx);
        firstLine(err, msg, sizeof(msg));
        /* "Error: Could not process rule: File exists" -> after "Error: ". */
        virReportError(VIR_ERR_OPERATION_FAILED, "%s: nftables: %s", what,
                       msg[0] ? (strncmp(msg, "Error: ", 7) == 0 ? msg + 7 : msg)
                              : "the ruleset was refused");
        nft.ctxFree(ctx);
        return -1;
    }
    nft.ctxFree(ctx);
    return 0;
}

int netNftInstall(const netDef *def, const char *table, const char *owner, bool fault)
{
    VIR_AUTOFREE(char *) rules = netNftRules(def, table, owner);
    VIR_AUTOFREE(char *) withFault = NULL;
    char what[160];

    if (!rules)
        return -1;
    snprintf(what, sizeof(what), "cannot install the firewall rules of network '%s'",
             def->name);
    if (fault) {
        /* Test-only: a rule for a chain the table does not have, in the
         * same transaction: nftables refuses the whole of it. */
        if (!(withFault = virAsprintf("%sadd rule ip %s no-such-chain accept\n",
                                      rules, table)))
            return -1;
        return netNftRun(withFault, what);
    }
    return netNftRun(rules, what);
}
