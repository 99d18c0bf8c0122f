/* Every bound the agent applies to untrusted input, in one place. A buffer or
 * parser that reads network or file input takes one of these at creation. */
#ifndef EV_BOUNDS_H
#define EV_BOUNDS_H

#define EV_LIMIT_HTTP_BODY	  (64u * 1024 * 1024) /* one response body */
#define EV_LIMIT_HTTP_HEADER_LINE (16u * 1024) /* one response header line */
#define EV_LIMIT_HTTP_HEADERS	  128	       /* headers kept per response */
#define EV_LIMIT_REQUEST_TEXT	  (1u * 1024 * 1024) /* raw request for `sign` */
#define EV_LIMIT_SIGV4_HEADERS	  64   /* headers one request signs */
#define EV_LIMIT_URL		  8192 /* one URL or path */
#define EV_LIMIT_XML_DEPTH	  64   /* XML element nesting */
#define EV_LIMIT_XML_NODES	  (2u * 1024 * 1024) /* XML elements per document */
#define EV_LIMIT_JSON_BODY	  EV_LIMIT_HTTP_BODY /* one JSON document */
#define EV_LIMIT_INI_FILE	  (1u * 1024 * 1024) /* config/credentials file */
#define EV_LIMIT_PROCESS_OUTPUT	  (64u * 1024) /* credential_process stdout */
#define EV_LIMIT_TOKEN_FILE	  (64u * 1024) /* web identity / auth token */
#define EV_LIMIT_SECRET		  8192	       /* one secret or session token */
#define EV_LIMIT_PAGES		  10000	       /* pages per paginated call */
#define EV_LIMIT_PROFILE_CHAIN	  8	       /* source_profile hops */

#endif
