package org.lustra.util;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/** Named arrays to and from safetensors bytes (DJL's built-in encoding; order is not kept, names are). */
public final class SafeTensors {
    private SafeTensors() {}

    /** Copies of the arrays, named by the map's keys, encoded; temporaries die in a sub-manager of {@code scratch}. */
    public static byte[] encode(Map<String, NDArray> arrays, NDManager scratch) {
        try (NDManager s = scratch.newSubManager()) {
            NDList list = new NDList();
            for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
                NDArray a = e.getValue().duplicate();
                a.attach(s);
                a.setName(e.getKey());
                list.add(a);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            list.encode(out, NDList.Encoding.SAFETENSORS);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes into {@code manager}, by name. */
    public static Map<String, NDArray> decode(InputStream in, NDManager manager) {
        Map<String, NDArray> byName = new HashMap<>();
        for (NDArray a : NDList.decode(manager, in)) {
            byName.put(a.getName(), a);
        }
        return byName;
    }
}
