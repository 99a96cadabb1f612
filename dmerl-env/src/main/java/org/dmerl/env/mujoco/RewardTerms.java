package org.dmerl.env.mujoco;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The reward terms of one step: a small insertion-ordered map that a task fills through {@link #put} and that is
 * read-only once {@link #freeze() frozen}. Cheaper per step than a {@code LinkedHashMap} wrapped unmodifiable (no
 * hashing, no entry nodes, values boxed only when read), with the same {@link Map} behaviour: iteration in insertion
 * order, {@code equals}/{@code hashCode} of any map, and {@link UnsupportedOperationException} on changes.
 */
final class RewardTerms extends AbstractMap<String, Double> {

    private String[] keys;
    private double[] values;
    private int size;
    private boolean frozen;

    RewardTerms(int capacity) {
        keys = new String[Math.max(capacity, 1)];
        values = new double[keys.length];
    }

    /** Makes the map read-only; returns it. */
    RewardTerms freeze() {
        frozen = true;
        return this;
    }

    /** The sum of the values, in insertion order (the reward). */
    double sum() {
        double sum = 0;
        for (int i = 0; i < size; i++) sum += values[i];
        return sum;
    }

    private int indexOf(Object key) {
        for (int i = 0; i < size; i++) if (keys[i].equals(key)) return i;
        return -1;
    }

    @Override
    public Double put(String key, Double value) {
        if (frozen) throw new UnsupportedOperationException("reward terms are read-only");
        if (key == null || value == null) throw new NullPointerException("reward terms take no null key or value");
        int i = indexOf(key);
        if (i >= 0) {
            double old = values[i];
            values[i] = value;
            return old;
        }
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, 2 * size);
            values = Arrays.copyOf(values, 2 * size);
        }
        keys[size] = key;
        values[size++] = value;
        return null;
    }

    @Override
    public Double get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : values[i];
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<Entry<String, Double>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public Iterator<Entry<String, Double>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < size;
                    }

                    @Override
                    public Entry<String, Double> next() {
                        if (next >= size) throw new NoSuchElementException();
                        int i = next++;
                        return new SimpleImmutableEntry<>(keys[i], values[i]);
                    }
                };
            }
        };
    }
}
