package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.spi.Availability;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * The probe never touches a JCuda class: run in a class loader that has attn4j's classes and resources but no
 * JCuda jar, it still answers (a JCuda reference would throw NoClassDefFoundError), so a machine whose JCuda
 * natives cannot load still gets a reason instead of a crash.
 */
class ProbeWithoutJCudaTest {

    @Test
    void probeAnswersWithoutJCudaOnTheClassPath() throws Exception {
        URL cuda = CudaBackendProvider.class.getProtectionDomain().getCodeSource().getLocation();
        URL api = Availability.class.getProtectionDomain().getCodeSource().getLocation();
        URL nativeJar = NativeResources.class.getClassLoader().getResource(NativeResources.MANIFEST);
        String nativeRoot = nativeJar.toString().substring(0, nativeJar.toString().length() - NativeResources.MANIFEST.length());
        if (nativeRoot.startsWith("jar:")) {
            nativeRoot = nativeRoot.substring(4, nativeRoot.length() - 2);  // jar:file:/x.jar!/ -> file:/x.jar
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {cuda, api, new URL(nativeRoot)},
                ClassLoader.getPlatformClassLoader())) {
            assertTrue(loader.getResource("jcuda/driver/JCudaDriver.class") == null, "JCuda must not be visible here");
            Class<?> provider = Class.forName(CudaBackendProvider.class.getName(), true, loader);
            Object availability = provider.getMethod("probe").invoke(provider.getConstructor().newInstance());
            String reason = (String) availability.getClass().getMethod("reason").invoke(availability);
            assertTrue(reason != null && !reason.isBlank(), String.valueOf(availability));
        }
    }
}
