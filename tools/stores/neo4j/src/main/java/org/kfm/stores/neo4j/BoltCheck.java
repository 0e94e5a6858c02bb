package org.kfm.stores.neo4j;

import java.util.concurrent.TimeUnit;

import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Config;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;
import org.neo4j.driver.Session;
import org.neo4j.driver.SessionConfig;
import org.neo4j.driver.AccessMode;

/**
 * Readiness probe: connects over Bolt with the credentials from KFM_NEO4J_USER / KFM_NEO4J_PASSWORD and runs a
 * Cypher read. Prints the server agent and exits 0 on success, 1 on failure.
 *
 * <p>Usage: {@code BoltCheck [bolt://127.0.0.1:7687]}
 */
public final class BoltCheck {

    private BoltCheck() {}

    public static void main(String[] args) {
        String uri = args.length > 0 ? args[0] : env("KFM_NEO4J_URI", "bolt://127.0.0.1:7687");
        String user = env("KFM_NEO4J_USER", "neo4j");
        String password = env("KFM_NEO4J_PASSWORD", "kfm-local-dev");
        Config config = Config.builder()
                .withConnectionTimeout(3, TimeUnit.SECONDS)
                .withoutEncryption()
                .withLogging(org.neo4j.driver.Logging.none())
                .build();
        try (Driver driver = GraphDatabase.driver(uri, AuthTokens.basic(user, password), config);
                Session session = driver.session(SessionConfig.builder().withDefaultAccessMode(AccessMode.READ).build())) {
            Record r = session.run("CALL dbms.components() YIELD name, versions, edition "
                    + "RETURN name, versions[0] AS version, edition").single();
            System.out.printf("%s %s %s%n", r.get("name").asString(), r.get("version").asString(),
                    r.get("edition").asString());
            System.exit(0);
        } catch (Exception e) {
            System.err.println("bolt check failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(1);
        }
    }

    private static String env(String k, String d) {
        String v = System.getenv(k);
        return v == null || v.isEmpty() ? d : v;
    }
}
