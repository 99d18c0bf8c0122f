#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "buf.h"
#include "xml.h"

/* Response shapes from aws-api.md §4, §5 and §10. */

static const char list_users[] =
    "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  "
    "<ListUsersResult><IsTruncated>true</IsTruncated><Marker>AAIAAXZ6Y2N</"
    "Marker>\n"
    "    "
    "<Users><member><Path>/</Path><UserName>alice</"
    "UserName><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\n"
    "      "
    "<Arn>arn:aws:iam::111122223333:user/alice</"
    "Arn><CreateDate>2021-05-04T10:11:12Z</CreateDate>\n"
    "      <PasswordLastUsed>2025-02-27T08:00:01Z</PasswordLastUsed></member>"
    "<member><Path>/</Path><UserName>bob</UserName></member></Users>\n"
    "  "
    "</"
    "ListUsersResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-"
    "cbc7ccf896c7</RequestId></ResponseMetadata>\n"
    "</ListUsersResponse>";

static const char describe_instances[] =
    "<DescribeInstancesResponse "
    "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/"
    "\"><requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
    "  "
    "<reservationSet><item><reservationId>r-1234567890abcdef0</"
    "reservationId><ownerId>111122223333</ownerId><groupSet/>\n"
    "      "
    "<instancesSet><item><instanceId>i-1234567890abcdef0</"
    "instanceId><imageId>ami-0abcdef1234567890</imageId>\n"
    "          "
    "<instanceState><code>16</code><name>running</name></"
    "instanceState><instanceType>t3.micro</instanceType>\n"
    "          <launchTime>2025-02-01T09:30:00.000Z</launchTime>\n"
    "          "
    "<subnetId>subnet-0123456789abcdef0</"
    "subnetId><vpcId>vpc-0a1b2c3d4e5f60718</vpcId>\n"
    "          "
    "<groupSet><item><groupId>sg-0123456789abcdef0</"
    "groupId><groupName>default</groupName></item></groupSet>\n"
    "          "
    "<networkInterfaceSet><item><vpcId>vpc-0a1b2c3d4e5f60718</"
    "vpcId><subnetId>subnet-0123456789abcdef0</subnetId></item></"
    "networkInterfaceSet>\n"
    "        </item></instancesSet></item></reservationSet>\n"
    "  <nextToken>eyJ2IjoiMiIsImMiOiJ</nextToken></DescribeInstancesResponse>";

static const char describe_db_instances[] =
    "<DescribeDBInstancesResponse "
    "xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
    "  <DescribeDBInstancesResult><DBInstances><DBInstance>\n"
    "        "
    "<DBInstanceIdentifier>orders-db</DBInstanceIdentifier><Engine>postgres</"
    "Engine>\n"
    "        "
    "<VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-"
    "0123456789abcdef0</VpcSecurityGroupId><Status>active</Status></"
    "VpcSecurityGroupMembership></VpcSecurityGroups>\n"
    "        "
    "<DBSubnetGroup><DBSubnetGroupName>default-vpc-0a1b2c3d4e5f60718</"
    "DBSubnetGroupName>\n"
    "          "
    "<VpcId>vpc-0a1b2c3d4e5f60718</VpcId><SubnetGroupStatus>Complete</"
    "SubnetGroupStatus>\n"
    "          "
    "<Subnets><Subnet><SubnetIdentifier>subnet-0123456789abcdef0</"
    "SubnetIdentifier></Subnet>"
    "<Subnet><SubnetIdentifier>subnet-0fedcba9876543210</SubnetIdentifier></"
    "Subnet></Subnets>\n"
    "        </DBSubnetGroup><MultiAZ>false</MultiAZ>\n"
    "      "
    "</DBInstance></DBInstances><Marker>b3JkZXJzLWRi</Marker></"
    "DescribeDBInstancesResult>"
    "<ResponseMetadata><RequestId>rid-rds</RequestId></ResponseMetadata></"
    "DescribeDBInstancesResponse>";

static const char account_summary[] =
    "<GetAccountSummaryResponse "
    "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "<GetAccountSummaryResult><SummaryMap><entry><key>AccountMFAEnabled</"
    "key><value>1</value></entry>\n"
    "<entry><key>AccountAccessKeysPresent</key><value>0</value></entry></"
    "SummaryMap>\n"
    "</GetAccountSummaryResult></GetAccountSummaryResponse>";

static const char query_error[] =
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The "
    "security token included in the request is invalid</Message></Error>\n"
    "  "
    "<RequestId>16fc956c-311e-4199-bee1-1680236e9698</RequestId></"
    "ErrorResponse>";

static const char ec2_error[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Response><Errors><Error><Code>RequestLimitExceeded</"
    "Code><Message>Request limit exceeded.</Message></Error></Errors>"
    "<RequestID>8a0e6c5d-1111</RequestID></Response>";

static const char s3_error[] =
    "<Error><Code>AccessDenied</Code><Message>Access "
    "Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>host-id</"
    "HostId></Error>";

static const char s3_lock_config[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<s3:ObjectLockConfiguration "
    "xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<s3:ObjectLockEnabled>Enabled</s3:ObjectLockEnabled>"
    "<s3:Rule><s3:DefaultRetention><s3:Mode>COMPLIANCE</s3:Mode><s3:Days>400</"
    "s3:Days></s3:DefaultRetention></s3:Rule>"
    "</s3:ObjectLockConfiguration>";

static struct ev_xml_doc *parse_ok(const char *s)
{
	struct ev_xml_doc *doc = NULL;
	struct ev_error e = {0};
	enum ev_err rc = ev_xml_parse(s, strlen(s), &doc, &e);
	if (rc != EV_OK)
		print_error("parse: %s\n", e.message);
	assert_int_equal(rc, EV_OK);
	assert_non_null(doc);
	return doc;
}

static enum ev_err parse_fails(const char *s, size_t len, struct ev_error *e)
{
	struct ev_xml_doc *doc = (struct ev_xml_doc *)1;
	enum ev_err rc = ev_xml_parse(s, len, &doc, e);
	assert_null(doc);
	assert_int_equal(e->code, rc);
	return rc;
}

static void assert_json(json_t *j, const char *expected)
{
	assert_non_null(j);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(s);
	if (strcmp(s, expected) != 0)
		print_error("got      %s\nexpected %s\n", s, expected);
	assert_string_equal(s, expected);
	free(s);
	json_decref(j);
}

static void query_member_list(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(list_users);
	const struct ev_xml_node *root = ev_xml_root(doc);
	assert_string_equal(root->name, "ListUsersResponse");
	assert_null(root->parent);
	const struct ev_xml_node *res = ev_xml_child(root, "ListUsersResult");
	assert_non_null(res);
	assert_string_equal(ev_xml_path_text(res, "IsTruncated"), "true");
	assert_string_equal(ev_xml_path_text(res, "Marker"), "AAIAAXZ6Y2N");
	const struct ev_xml_node *m = ev_xml_path(res, "Users/member");
	assert_non_null(m);
	assert_string_equal(ev_xml_path_text(m, "UserName"), "alice");
	assert_string_equal(ev_xml_path_text(m, "Arn"),
			    "arn:aws:iam::111122223333:user/alice");
	m = ev_xml_next_same(m);
	assert_non_null(m);
	assert_string_equal(ev_xml_path_text(m, "UserName"), "bob");
	assert_null(ev_xml_path_text(m, "PasswordLastUsed"));
	assert_null(ev_xml_next_same(m));
	assert_string_equal(
	    ev_xml_path_text(root, "ResponseMetadata/RequestId"),
	    "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
	assert_ptr_equal(m->parent, ev_xml_path(res, "Users"));

	assert_json(ev_xml_to_json(ev_xml_path(res, "Users")),
		    "[{\"Path\":\"/\",\"UserName\":\"alice\","
		    "\"UserId\":\"AIDACKCEVSQ6C2EXAMPLE\","
		    "\"Arn\":\"arn:aws:iam::111122223333:user/alice\","
		    "\"CreateDate\":\"2021-05-04T10:11:12Z\","
		    "\"PasswordLastUsed\":\"2025-02-27T08:00:01Z\"},"
		    "{\"Path\":\"/\",\"UserName\":\"bob\"}]");
	ev_xml_free(doc);
}

static void ec2_item_sets(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(describe_instances);
	const struct ev_xml_node *root = ev_xml_root(doc);
	assert_string_equal(ev_xml_path_text(root, "requestId"),
			    "8f7724cf-496f-496e-8fe3-example");
	const struct ev_xml_node *inst =
	    ev_xml_path(root, "reservationSet/item/instancesSet/item");
	assert_non_null(inst);
	assert_string_equal(ev_xml_path_text(inst, "instanceId"),
			    "i-1234567890abcdef0");
	assert_string_equal(ev_xml_path_text(inst, "instanceState/code"), "16");
	assert_string_equal(ev_xml_path_text(inst, "groupSet/item/groupId"),
			    "sg-0123456789abcdef0");
	/* <groupSet/> on the reservation: present, empty. */
	const struct ev_xml_node *gs =
	    ev_xml_path(root, "reservationSet/item/groupSet");
	assert_non_null(gs);
	assert_null(gs->first_child);
	assert_string_equal(gs->text, "");
	assert_int_equal(gs->text_len, 0);
	/* vpcId recurs at several depths: find returns document order. */
	const struct ev_xml_node *v = ev_xml_find(root, "vpcId");
	assert_ptr_equal(v, ev_xml_child(inst, "vpcId"));
	assert_null(ev_xml_find(root, "ipAddress"));
	assert_string_equal(ev_xml_path_text(root, "nextToken"),
			    "eyJ2IjoiMiIsImMiOiJ");

	json_t *j = ev_xml_to_json(root);
	assert_non_null(j);
	json_t *rs = json_object_get(j, "reservationSet");
	assert_true(json_is_array(rs));
	assert_int_equal(json_array_size(rs), 1);
	json_t *r0 = json_array_get(rs, 0);
	assert_string_equal(json_string_value(json_object_get(r0, "groupSet")),
			    "");
	json_t *is = json_object_get(r0, "instancesSet");
	assert_true(json_is_array(is));
	json_t *groups = json_object_get(json_array_get(is, 0), "groupSet");
	assert_true(json_is_array(groups));
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(groups, 0), "groupName")),
			    "default");
	json_decref(j);
	ev_xml_free(doc);
}

static void rds_named_children(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(describe_db_instances);
	const struct ev_xml_node *res =
	    ev_xml_child(ev_xml_root(doc), "DescribeDBInstancesResult");
	const struct ev_xml_node *db =
	    ev_xml_path(res, "DBInstances/DBInstance");
	assert_non_null(db);
	assert_string_equal(ev_xml_path_text(db, "DBSubnetGroup/VpcId"),
			    "vpc-0a1b2c3d4e5f60718");
	const struct ev_xml_node *sn =
	    ev_xml_path(db, "DBSubnetGroup/Subnets/Subnet");
	assert_string_equal(ev_xml_path_text(sn, "SubnetIdentifier"),
			    "subnet-0123456789abcdef0");
	sn = ev_xml_next_same(sn);
	assert_string_equal(ev_xml_path_text(sn, "SubnetIdentifier"),
			    "subnet-0fedcba9876543210");
	assert_null(ev_xml_next_same(sn));

	/* Named children: one stays an object, repeated ones an array. */
	assert_json(ev_xml_to_json(ev_xml_path(db, "DBSubnetGroup/Subnets")),
		    "{\"Subnet\":[{\"SubnetIdentifier\":"
		    "\"subnet-0123456789abcdef0\"},{\"SubnetIdentifier\":"
		    "\"subnet-0fedcba9876543210\"}]}");
	assert_json(ev_xml_to_json(ev_xml_path(db, "VpcSecurityGroups")),
		    "{\"VpcSecurityGroupMembership\":{\"VpcSecurityGroupId\":"
		    "\"sg-0123456789abcdef0\",\"Status\":\"active\"}}");
	ev_xml_free(doc);
}

static void query_map_entries(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(account_summary);
	const struct ev_xml_node *map =
	    ev_xml_path(ev_xml_root(doc), "GetAccountSummaryResult/SummaryMap");
	const struct ev_xml_node *e = ev_xml_child(map, "entry");
	assert_string_equal(ev_xml_path_text(e, "key"), "AccountMFAEnabled");
	assert_string_equal(ev_xml_path_text(e, "value"), "1");
	assert_json(ev_xml_to_json(map),
		    "[{\"key\":\"AccountMFAEnabled\",\"value\":\"1\"},"
		    "{\"key\":\"AccountAccessKeysPresent\",\"value\":\"0\"}]");
	ev_xml_free(doc);
}

static void error_envelopes(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(query_error);
	const struct ev_xml_node *r = ev_xml_root(doc);
	assert_string_equal(r->name, "ErrorResponse");
	assert_string_equal(ev_xml_path_text(r, "Error/Code"),
			    "InvalidClientTokenId");
	assert_string_equal(ev_xml_path_text(r, "Error/Type"), "Sender");
	assert_string_equal(ev_xml_path_text(r, "RequestId"),
			    "16fc956c-311e-4199-bee1-1680236e9698");
	ev_xml_free(doc);

	doc = parse_ok(ec2_error);
	r = ev_xml_root(doc);
	assert_string_equal(r->name, "Response");
	assert_string_equal(ev_xml_path_text(r, "Errors/Error/Code"),
			    "RequestLimitExceeded");
	assert_string_equal(ev_xml_path_text(r, "RequestID"), "8a0e6c5d-1111");
	assert_null(ev_xml_path_text(r, "RequestId"));
	/* The caller's generic lookup: first Error/Code anywhere. */
	assert_string_equal(ev_xml_path_text(ev_xml_find(r, "Error"), "Code"),
			    "RequestLimitExceeded");
	ev_xml_free(doc);

	doc = parse_ok(s3_error);
	r = ev_xml_root(doc);
	assert_string_equal(r->name, "Error");
	assert_string_equal(ev_xml_path_text(r, "Code"), "AccessDenied");
	assert_string_equal(ev_xml_path_text(r, "RequestId"),
			    "4442587FB7D0A2F9");
	assert_json(
	    ev_xml_to_json(r),
	    "{\"Code\":\"AccessDenied\",\"Message\":\"Access Denied\","
	    "\"RequestId\":\"4442587FB7D0A2F9\",\"HostId\":\"host-id\"}");
	ev_xml_free(doc);
}

static void s3_prefixed_namespace(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(s3_lock_config);
	const struct ev_xml_node *r = ev_xml_root(doc);
	assert_string_equal(r->name, "ObjectLockConfiguration");
	assert_string_equal(ev_xml_path_text(r, "ObjectLockEnabled"),
			    "Enabled");
	assert_string_equal(ev_xml_path_text(r, "Rule/DefaultRetention/Mode"),
			    "COMPLIANCE");
	assert_string_equal(ev_xml_path_text(r, "/Rule//DefaultRetention/Days"),
			    "400");
	assert_null(ev_xml_path(r, "Rule/Nope/Days"));
	assert_ptr_equal(ev_xml_path(r, ""), r);
	ev_xml_free(doc);
}

static void text_round_trips_exactly(void **state)
{
	(void)state;
	/* Policy documents arrive URL-encoded and entity-escaped; leading and
	 * trailing whitespace, CR (as a reference) and CDATA must survive. */
	const char *xml =
	    "<r><Doc>%7B%22a%22%3A1%7D &lt;&amp;&gt;&quot;&apos;</Doc>"
	    "<Ws>  two  spaces\n\tand tab  </Ws>"
	    "<Cr>a&#13;b&#x0D;</Cr>"
	    "<Cdata><![CDATA[<not a tag> & ]]></Cdata>"
	    "<Utf8>\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e</Utf8>"
	    "<Mixed>x<b>y</b>z</Mixed></r>";
	struct ev_xml_doc *doc = parse_ok(xml);
	const struct ev_xml_node *r = ev_xml_root(doc);
	assert_string_equal(ev_xml_path_text(r, "Doc"),
			    "%7B%22a%22%3A1%7D <&>\"'");
	assert_string_equal(ev_xml_path_text(r, "Ws"),
			    "  two  spaces\n\tand tab  ");
	assert_string_equal(ev_xml_path_text(r, "Cr"), "a\rb\r");
	assert_string_equal(ev_xml_path_text(r, "Cdata"), "<not a tag> & ");
	assert_string_equal(ev_xml_path_text(r, "Utf8"),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");
	const struct ev_xml_node *m = ev_xml_child(r, "Mixed");
	assert_string_equal(m->text, "xz");
	assert_int_equal(m->text_len, 2);
	assert_string_equal(ev_xml_path_text(m, "b"), "y");
	ev_xml_free(doc);
}

static void large_text_crosses_slices(void **state)
{
	(void)state;
	/* A credential report: megabytes of base64 in one element, longer than
	 * one slice handed to expat, must come back byte for byte. */
	size_t n = 3u * 1024 * 1024 + 17;
	struct ev_buf b;
	ev_buf_init(&b, n + 256);
	assert_int_equal(ev_buf_append_str(&b, "<GetCredentialReportResult>"
					       "<Content>"),
			 EV_OK);
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ev_buf_append_char(&b, b64[(i * 7) % 64]),
				 EV_OK);
	assert_int_equal(ev_buf_append_str(&b, "</Content><ReportFormat>"
					       "text/csv</ReportFormat>"
					       "</GetCredentialReportResult>"),
			 EV_OK);
	struct ev_xml_doc *doc = NULL;
	struct ev_error e = {0};
	assert_int_equal(ev_xml_parse(b.data, b.len, &doc, &e), EV_OK);
	const struct ev_xml_node *c = ev_xml_child(ev_xml_root(doc), "Content");
	assert_int_equal(c->text_len, n);
	assert_int_equal(strlen(c->text), n);
	for (size_t i = 0; i < n; i++)
		if (c->text[i] != b64[(i * 7) % 64])
			fail_msg("byte %zu differs", i);
	assert_string_equal(ev_xml_path_text(ev_xml_root(doc), "ReportFormat"),
			    "text/csv");
	ev_xml_free(doc);
	ev_buf_cleanup(&b);
}

static void to_json_shapes(void **state)
{
	(void)state;
	struct ev_xml_doc *doc = parse_ok(
	    "<R><Empty/><Leaf>v</Leaf><One><member>a</member></One>"
	    "<Items>\n  <item><k>1</k></item>\n</Items>"
	    "<Rep>1</Rep><Rep>2</Rep><Mix><member>a</member><other>b</other>"
	    "</Mix><Named><X>1</X></Named><Ws>  </Ws></R>");
	const struct ev_xml_node *r = ev_xml_root(doc);
	assert_json(ev_xml_to_json(r),
		    "{\"Empty\":\"\",\"Leaf\":\"v\",\"One\":[\"a\"],"
		    "\"Items\":[{\"k\":\"1\"}],\"Rep\":[\"1\",\"2\"],"
		    "\"Mix\":{\"member\":\"a\",\"other\":\"b\"},"
		    "\"Named\":{\"X\":\"1\"},\"Ws\":\"  \"}");
	assert_json(ev_xml_to_json(ev_xml_child(r, "Leaf")), "\"v\"");
	assert_null(ev_xml_to_json(NULL));
	ev_xml_free(doc);
}

static void lookups_accept_null(void **state)
{
	(void)state;
	assert_null(ev_xml_root(NULL));
	assert_null(ev_xml_child(NULL, "a"));
	assert_null(ev_xml_next_same(NULL));
	assert_null(ev_xml_path(NULL, "a"));
	assert_null(ev_xml_path_text(NULL, "a"));
	assert_null(ev_xml_find(NULL, "a"));
	ev_xml_free(NULL);
}

static void malformed_inputs(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "   ",
	    "not xml",
	    "<a>",
	    "<a></b>",
	    "<a><b></a></b>",
	    "<a/><b/>",
	    "<a>text</a>trailing",
	    "<a x='1' x='2'/>",
	    "<a>\xff\xfe</a>",
	    "<a>\xc3</a>",
	    "<a>&undefined;</a>",
	    "<a>&#0;</a>",
	    "<p:a/>",
	    "<a>]]></a>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ev_error e = {0};
		enum ev_err rc = parse_fails(bad[i], strlen(bad[i]), &e);
		if (rc != EV_E_MALFORMED)
			fail_msg("input %zu: %s", i, ev_err_name(rc));
		assert_true(strstr(e.message, "XML") != NULL);
	}
	/* Bytes after an embedded NUL still count: not a C string. */
	struct ev_error e = {0};
	assert_int_equal(parse_fails("<a/>\0<b/>", 9, &e), EV_E_MALFORMED);
}

static void declared_encoding_is_not_trusted(void **state)
{
	(void)state;
	/* A Latin-1 byte is invalid UTF-8: refused, not re-encoded. */
	const char *xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
			  "<a>\xe9</a>";
	struct ev_error e = {0};
	assert_int_equal(parse_fails(xml, strlen(xml), &e), EV_E_MALFORMED);
}

static char *nested(size_t depth)
{
	struct ev_buf b;
	ev_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(ev_buf_append_str(&b, "<d>"), EV_OK);
	assert_int_equal(ev_buf_append_str(&b, "deep"), EV_OK);
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(ev_buf_append_str(&b, "</d>"), EV_OK);
	return ev_buf_take(&b);
}

static void depth_limit(void **state)
{
	(void)state;
	char *ok = nested(EV_LIMIT_XML_DEPTH);
	struct ev_xml_doc *doc = parse_ok(ok);
	const struct ev_xml_node *n = ev_xml_root(doc);
	size_t depth = 1;
	while (n->first_child) {
		n = n->first_child;
		depth++;
	}
	assert_int_equal(depth, EV_LIMIT_XML_DEPTH);
	assert_string_equal(n->text, "deep");
	ev_xml_free(doc);
	free(ok);

	char *deep = nested(EV_LIMIT_XML_DEPTH + 1);
	struct ev_error e = {0};
	assert_int_equal(parse_fails(deep, strlen(deep), &e), EV_E_LIMIT);
	free(deep);
}

static char *many(size_t count)
{
	struct ev_buf b;
	ev_buf_init(&b, 8 * count + 64);
	assert_int_equal(ev_buf_append_str(&b, "<r>"), EV_OK);
	for (size_t i = 1; i < count; i++)
		assert_int_equal(ev_buf_append(&b, "<item/>", 7), EV_OK);
	assert_int_equal(ev_buf_append_str(&b, "</r>"), EV_OK);
	return ev_buf_take(&b);
}

static void node_limit(void **state)
{
	(void)state;
	char *ok = many(EV_LIMIT_XML_NODES);
	struct ev_xml_doc *doc = parse_ok(ok);
	size_t n = 0;
	for (const struct ev_xml_node *k = ev_xml_root(doc)->first_child; k;
	     k = ev_xml_next_same(k))
		n++;
	assert_int_equal(n + 1, EV_LIMIT_XML_NODES);
	ev_xml_free(doc);
	free(ok);

	char *over = many(EV_LIMIT_XML_NODES + 1);
	struct ev_error e = {0};
	assert_int_equal(parse_fails(over, strlen(over), &e), EV_E_LIMIT);
	free(over);
}

static void doctype_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "<!DOCTYPE a><a/>",
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE a SYSTEM "
	    "\"file:///etc/passwd\"><a>&x;</a>",
	    "<!DOCTYPE a [<!ENTITY x SYSTEM "
	    "\"http://169.254.169.254/\">]><a>&x;</a>",
	    "<!DOCTYPE a PUBLIC \"-//x//y\" \"http://example.com/a.dtd\"><a/>",
	    "<!DOCTYPE a [<!ENTITY % p SYSTEM \"http://example.com/p\"> "
	    "%p;]><a/>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ev_error e = {0};
		if (parse_fails(bad[i], strlen(bad[i]), &e) != EV_E_MALFORMED)
			fail_msg("input %zu not refused as malformed", i);
		assert_non_null(strstr(e.message, "DOCTYPE"));
	}
}

static void billion_laughs_refused(void **state)
{
	(void)state;
	const char *xml =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol1 "
	    "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol2 "
	    "\"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "\n"
	    " <!ENTITY lol3 "
	    "\"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "\n"
	    " <!ENTITY lol4 "
	    "\"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "\n"
	    " <!ENTITY lol5 "
	    "\"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	    "\n"
	    " <!ENTITY lol6 "
	    "\"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	    "\n"
	    " <!ENTITY lol7 "
	    "\"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "\n"
	    " <!ENTITY lol8 "
	    "\"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "\n"
	    " <!ENTITY lol9 "
	    "\"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
	    "\n"
	    "]>\n"
	    "<lolz>&lol9;</lolz>";
	struct ev_error e = {0};
	assert_int_equal(parse_fails(xml, strlen(xml), &e), EV_E_MALFORMED);
}

static void error_message_hides_content(void **state)
{
	(void)state;
	const char *xml = "<Credentials><SecretAccessKey>wJalrXUtnFEMI/K7MDENG"
			  "</SecretAccessKey><oops></Credentials>";
	struct ev_error e = {0};
	assert_int_equal(parse_fails(xml, strlen(xml), &e), EV_E_MALFORMED);
	assert_null(strstr(e.message, "wJalr"));
	assert_non_null(strstr(e.message, "line 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(query_member_list),
	    cmocka_unit_test(ec2_item_sets),
	    cmocka_unit_test(rds_named_children),
	    cmocka_unit_test(query_map_entries),
	    cmocka_unit_test(error_envelopes),
	    cmocka_unit_test(s3_prefixed_namespace),
	    cmocka_unit_test(text_round_trips_exactly),
	    cmocka_unit_test(large_text_crosses_slices),
	    cmocka_unit_test(to_json_shapes),
	    cmocka_unit_test(lookups_accept_null),
	    cmocka_unit_test(malformed_inputs),
	    cmocka_unit_test(declared_encoding_is_not_trusted),
	    cmocka_unit_test(depth_limit),
	    cmocka_unit_test(node_limit),
	    cmocka_unit_test(doctype_refused),
	    cmocka_unit_test(billion_laughs_refused),
	    cmocka_unit_test(error_message_hides_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
