import { connect, rootCertificates, type PeerCertificate, type SecureVersion } from 'node:tls';
import { isIP } from 'node:net';

/** What one TLS handshake showed. */
export interface Handshake {
  readonly ok: boolean;
  readonly protocol?: string;
  readonly cert?: PeerCertificate;
  /** OpenSSL's reason the chain is not trusted (e.g. DEPTH_ZERO_SELF_SIGNED_CERT), if it is not. */
  readonly authorizationError?: string;
  readonly error?: string;
}

export interface HandshakeOptions {
  readonly host: string;
  readonly port: number;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/**
 * Opens a TLS connection, reads the certificate and closes it: no HTTP is sent. Legacy versions
 * need OpenSSL's security level 0 on our side, or the client would refuse to even offer them.
 */
export function handshake(o: HandshakeOptions): Promise<Handshake> {
  const legacy = o.maxVersion === 'TLSv1' || o.maxVersion === 'TLSv1.1';
  return new Promise((resolve) => {
    let settled = false;
    const done = (h: Handshake): void => {
      if (!settled) {
        settled = true;
        socket.destroy();
        resolve(h);
      }
    };
    const socket = connect({
      host: o.host,
      port: o.port,
      // SNI carries host names only, never addresses (RFC 6066 section 3).
      ...(isIP(o.host) === 0 ? { servername: o.host } : {}),
      rejectUnauthorized: false,
      ca: o.ca === undefined ? undefined : [...rootCertificates, o.ca],
      ...(o.minVersion === undefined ? {} : { minVersion: o.minVersion }),
      ...(o.maxVersion === undefined ? {} : { maxVersion: o.maxVersion }),
      ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
      timeout: o.timeoutMs ?? 10_000,
    });
    socket.once('secureConnect', () => {
      const err = socket.authorizationError as Error | string | null | undefined;
      const reason = err === null || err === undefined ? undefined : typeof err === 'string' ? err : ((err as NodeJS.ErrnoException).code ?? err.message);
      done({ ok: true, protocol: socket.getProtocol() ?? undefined, cert: socket.getPeerCertificate(), ...(reason === undefined ? {} : { authorizationError: reason }) } as Handshake);
    });
    socket.once('timeout', () => done({ ok: false, error: 'timeout' }));
    socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
  });
}

/** True for names and addresses that never leave the machine. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
